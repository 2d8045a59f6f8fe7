"""Which model the companion talks to: the `ai.*` settings as the client's config."""

from __future__ import annotations

from luna_tui.ai.provider import ProviderConfig, list_models
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.settings import Settings


class ModelSettings(DomainService):
    @on_db_thread
    def provider_config(self) -> ProviderConfig:
        settings = Settings(self.session)
        return ProviderConfig(
            base_url=settings.get("ai.base_url"), model=settings.get("ai.model"),
            api_key=settings.get("ai.api_key"), allow_remote=bool(settings.get("ai.allow_remote")),
            timeout_seconds=float(settings.get("ai.timeout_seconds")))


def available_models(config: ProviderConfig) -> list[str]:
    """The models the endpoint has (a network call: off the DB thread). A remote endpoint
    is refused, before anything is sent, unless ai.allow_remote is on."""
    return list_models(config)
