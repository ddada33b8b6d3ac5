"""Change history in the admin, for every model that keeps a simple-history `history`.

The apps' admins build on `HistoryAdmin`: the "History" button of an article,
a patient, a plan or a plan step then lists its saved copies with who saved
each and when.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin with the checks simple-history leaves out.

    - History pages answer 404, not 500, for an id of the wrong type:
      simple-history's URLs take any text as the object and version ids and
      query with it as is; Django's own change view checks the id first.
    - Restoring an old version is a change: simple-history hides the button
      from staff who may only view, but still saves what they post.
    - `history_restore = False` makes the history read-only for everyone
      (records whose old copies should be read, never brought back).
    """

    history_restore = True

    def history_view(self, request, object_id, extra_context=None):
        self._check_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_ids(object_id, version_id)
        if request.method == "POST" and self.revert_disabled(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        restorable = self.history_restore and self.has_change_permission(request, obj)
        return not restorable or super().revert_disabled(request, obj)

    def _check_ids(self, object_id, version_id=None):
        history_model = getattr(self.model, self.model._meta.simple_history_manager_attribute).model
        try:
            self.model._meta.pk.to_python(unquote(object_id))
            if version_id is not None:
                history_model._meta.pk.to_python(version_id)
        except ValidationError:
            raise Http404 from None
