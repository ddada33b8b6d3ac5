from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render


@login_required
def today(request):
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "routines/today.html", {})


@login_required
def plan_detail(request):
    return render(request, "routines/today.html", {})


@login_required
def staff_plan_handout(request, patient_id):
    raise Http404("Plan handouts arrive with the routines issue.")
