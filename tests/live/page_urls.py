"""A sync page that reads the database and a sync streaming page, for test_streams_on_the_loop.py."""

import threading

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

seen: list[tuple[str, object]] = []  # (thread name, database wrapper) of each page served


def reading_page(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    seen.append((threading.current_thread().name, connection))
    return HttpResponse("read")


def streaming_page(request):
    return StreamingHttpResponse(f"part {n}\n".encode() for n in range(3))


urlpatterns = [path("read", reading_page), path("parts", streaming_page)]
