from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ingestion.models import ParserSettings, SyncLogLine, SyncRun
from ingestion.runs import run_enqueue
from ingestion.services import parser_emergency_stop, parser_mode_set, parser_settings_update


class SyncLogLineInline(admin.TabularInline):
    model = SyncLogLine
    extra = 0
    can_delete = False
    fields = ("created_at", "level", "message")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    max_num = 0


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "trigger",
        "target",
        "created",
        "updated",
        "unchanged",
        "failed",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status", "trigger", "dry_run")
    readonly_fields = [f.name for f in SyncRun._meta.fields]
    inlines = (SyncLogLineInline,)
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ParserSettings)
class ParserSettingsAdmin(admin.ModelAdmin):
    """The parser settings row, with the operator's buttons as actions: mode switch,
    emergency stop and "run now" per schedule. Everything goes through the audited services
    and every sync is a queued django-q2 job (linked to its run)."""

    list_display = ("mode", "enable_autoupdate", "update_interval_minutes", "emergency_stopped_at")
    readonly_fields = (
        "mode",
        "stage_only",
        "autopublish_enabled",
        "emergency_stopped_at",
        "updated_at",
    )
    actions = (
        "switch_to_auto",
        "switch_to_manual",
        "emergency_stop_action",
        "run_catalog_now",
        "run_calendar_now",
        "run_episodes_now",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        # Django wraps this view in a transaction; the settings service is a durable action
        # with its own (the save and its audit entry commit together there).
        return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined]

    def save_model(
        self, request: HttpRequest, obj: ParserSettings, form: Any, change: bool
    ) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        parser_settings_update(request=request, changes=changes, reason="Django admin")

    def _mode(self, request: HttpRequest, mode: str) -> None:
        parser_mode_set(request=request, mode=mode, reason="Django admin")
        self.message_user(request, f"Parser mode: {mode}", messages.SUCCESS)

    @admin.action(description="Switch to auto mode (scheduled syncs run)", permissions=["change"])
    def switch_to_auto(self, request: HttpRequest, queryset: QuerySet[ParserSettings]) -> None:
        self._mode(request, ParserSettings.Mode.AUTO)

    @admin.action(description="Switch to manual mode", permissions=["change"])
    def switch_to_manual(self, request: HttpRequest, queryset: QuerySet[ParserSettings]) -> None:
        self._mode(request, ParserSettings.Mode.MANUAL)

    @admin.action(
        description="EMERGENCY STOP: manual mode, stop running syncs", permissions=["change"]
    )
    def emergency_stop_action(
        self, request: HttpRequest, queryset: QuerySet[ParserSettings]
    ) -> None:
        told = parser_emergency_stop(request=request, reason="Django admin emergency stop")
        self.message_user(request, f"Stopped: {told} runs told to stop", messages.WARNING)

    def _run_now(self, request: HttpRequest, kind: str, target: str = "all") -> None:
        run = run_enqueue(kind=kind, trigger=SyncRun.Trigger.ADMIN, target=target)
        url = reverse("admin:ingestion_syncrun_change", args=[run.pk])
        self.message_user(
            request,
            format_html('Queued <a href="{}">{} sync run #{}</a>', url, kind, run.pk),
            messages.SUCCESS,
        )

    @admin.action(description="Run the catalog sync now", permissions=["change"])
    def run_catalog_now(self, request: HttpRequest, queryset: QuerySet[ParserSettings]) -> None:
        self._run_now(request, SyncRun.Kind.CATALOG)

    @admin.action(description="Run the calendar sync now", permissions=["change"])
    def run_calendar_now(self, request: HttpRequest, queryset: QuerySet[ParserSettings]) -> None:
        self._run_now(request, SyncRun.Kind.CALENDAR)

    @admin.action(description="Run the ongoing-episode sync now", permissions=["change"])
    def run_episodes_now(self, request: HttpRequest, queryset: QuerySet[ParserSettings]) -> None:
        self._run_now(request, SyncRun.Kind.EPISODES, "ongoing")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        ParserSettings.load()  # the row exists before anyone looks for it
        return super().changelist_view(request, extra_context)
