from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PatientModelBackend(ModelBackend):
    """Django's ModelBackend that loads a user's Patient record with the user.

    Every patient page needs the record, so it comes in the session's user
    query (a LEFT JOIN; staff have none) instead of a query of its own.
    """

    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related("patient").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)
