from .models import AccessLog


class AccessLoggedAdminMixin:
    """Writes an AccessLog row each time staff open a patient's record or plan in the admin.

    Subclasses say whose record an object belongs to with `patient_of(obj)`.
    """

    def patient_of(self, obj):
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and response.status_code == 200 and obj is not None:
            AccessLog.objects.record(
                request,
                patient=self.patient_of(obj),
                action=AccessLog.VIEW,
                # The id, not str(obj): this log is append-only, and names in it would outlive removal.
                what=f"Admin {obj._meta.verbose_name} #{obj.pk}",
            )
        return response
