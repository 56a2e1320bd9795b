from django.apps import AppConfig


class ParleyConfig(AppConfig):
    name = "parley"
    label = "parley"
    verbose_name = "Parley chat"
