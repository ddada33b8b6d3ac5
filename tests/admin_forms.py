"""What the admin's plan and step forms post, for tests that submit them (no tests in here)."""

from routines.forms import STEP_FIELDS


def step_form_values(step) -> dict:
    """A step's fields as the admin's step form posts them (weekdays left to the caller)."""
    return {
        field: (getattr(step, f"{field}_id") or "") if field in ("product", "article") else getattr(step, field)
        for field in STEP_FIELDS
        if field != "weekdays"
    }


def management_form(prefix, total, initial=None) -> dict:
    """An inline formset's management form: `total` forms, all of them existing rows unless `initial` says."""
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": total if initial is None else initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def plan_post(plan, steps, **changes) -> dict:
    """The plan change form's POST data for `plan` with its steps (dicts of field changes per step)."""
    data = {
        "patient": plan.patient_id,
        "name": plan.name,
        "status": plan.status,
        "start_date": plan.start_date.isoformat(),
        "end_date": plan.end_date.isoformat() if plan.end_date else "",
        "note": plan.note,
        **management_form("steps", len(steps)),
        **changes,
    }
    for i, (step, fields) in enumerate(steps):
        values = {"id": step.pk, "plan": plan.pk, **step_form_values(step), **fields}
        weekdays = values.pop("weekdays", list(step.weekdays))
        data.update({f"steps-{i}-{key}": value for key, value in values.items()})
        data[f"steps-{i}-weekdays"] = weekdays
    return data


def template_post(template, steps) -> dict:
    """The routine template change form's POST data for `template` with `steps`, unchanged."""
    data = {"name": template.name, "description": template.description, **management_form("steps", len(steps))}
    for i, step in enumerate(steps):
        values = {"id": step.pk, "template": template.pk, **step_form_values(step)}
        data.update({f"steps-{i}-{key}": value for key, value in values.items()})
    return data


def phase_post(step, phases) -> dict:
    """The step change form's POST data replacing the step's ramp-up phases with `phases` (schedule.Phase)."""
    data = {**step_form_values(step), **management_form("phases", len(phases), initial=0)}
    for i, phase in enumerate(phases):
        data.update(
            {
                f"phases-{i}-order": i + 1,
                f"phases-{i}-frequency": phase.frequency,
                f"phases-{i}-interval_days": phase.interval_days,
                f"phases-{i}-offset_days": phase.offset_days,
                f"phases-{i}-weekdays": list(phase.weekdays),
                f"phases-{i}-days": phase.days or "",
            }
        )
    return data


def unchanged_form(response) -> dict:
    """The POST data of an admin change page as shown: what the browser sends when nothing is edited."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data
