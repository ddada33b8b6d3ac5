"""An email backend for fault drills: Django's file backend, a little slower,
optionally dropping the database connection under the worker once."""

import os
import time

from django.core.mail.backends.filebased import EmailBackend
from django.db import connection

_sent = 0


class SlowFileBackend(EmailBackend):
    def send_messages(self, email_messages):
        global _sent
        count = 0
        for message in email_messages:
            time.sleep(0.02)  # a real SMTP hand-off takes time; gives a SIGKILL somewhere to land
            count += super().send_messages([message])
            _sent += 1
            if str(_sent) == os.environ.get("FAULT_DROP_CONNECTION_AFTER") and connection.connection is not None:
                # Close the socket/file under Django's feet, as a database restart would.
                connection.connection.close()
        return count
