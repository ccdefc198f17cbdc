from __future__ import annotations

from django.contrib import admin

from ingestion.models import ParserSettings, SyncLogLine, SyncRun


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
    list_display = ("mode", "enable_autoupdate", "update_interval_minutes", "updated_at")
    readonly_fields = ("stage_only", "autopublish_enabled", "emergency_stopped_at", "updated_at")
