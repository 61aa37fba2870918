"""URLs of the WhatsApp simulator page (demo only); the project mounts them at
``simulator-wa/``."""

from django.urls import path

from sipadu.messaging import simulator

app_name = "wa_simulator"

urlpatterns = [
    path("", simulator.page, name="page"),
    path("nomor/", simulator.choose_number, name="number"),
    path("kirim/", simulator.send_message, name="send"),
    path("pesan/", simulator.messages, name="messages"),
    path("media/<str:media_id>/", simulator.media, name="media"),
]
