from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "sipadu.messaging"
    label = "messaging"
    verbose_name = "Pesan"

    def ready(self) -> None:
        """Register the shipped channel types (web, WhatsApp) and their jobs."""
        from sipadu.messaging import tasks  # noqa: F401  (declares the Huey jobs)
        from sipadu.messaging.channels import register_channel
        from sipadu.messaging.types.web.channel import WebChannel
        from sipadu.messaging.types.whatsapp.channel import WhatsAppChannel

        register_channel(WebChannel.name, WebChannel)
        register_channel(WhatsAppChannel.name, WhatsAppChannel)
