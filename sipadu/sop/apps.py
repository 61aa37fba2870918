from django.apps import AppConfig


class SopConfig(AppConfig):
    name = "sipadu.sop"
    label = "sop"

    def ready(self) -> None:
        """Register the work pages' menu entries and the demo step."""
        from sipadu.sop import work_nav

        work_nav.register()
