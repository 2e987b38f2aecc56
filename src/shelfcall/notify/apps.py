from typing import Any

from django.apps import AppConfig
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "shelfcall.notify"
    verbose_name = _("Notifications and escalation")

    def ready(self) -> None:
        from shelfcall.notify import outbox, policies, wakeup
        from shelfcall.notify.models import Channel, CollectionPolicy, EscalationLevel, EscalationPolicy
        from shelfcall.orders import hooks

        hooks.use_timer_policy(policies.NotifyTimerPolicy())
        hooks.subscribe(outbox.on_order_events)
        hooks.on_timers_set(wakeup.timers_set)

        def forget(sender: type[Model], instance: Model, **kwargs: Any) -> None:
            policies.forget()

        for model in (Channel, EscalationPolicy, EscalationLevel, CollectionPolicy):
            post_save.connect(forget, sender=model, dispatch_uid=f"notify-forget-{model.__name__}")
            post_delete.connect(forget, sender=model, dispatch_uid=f"notify-forget-del-{model.__name__}")
