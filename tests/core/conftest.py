import pytest

from shelfcall.core.jobs import registry


@pytest.fixture
def job_kinds(monkeypatch):
    """Register job kinds for one test: `job_kinds(name=handler, …)`; the registry is as before afterwards."""
    monkeypatch.setattr(registry, "_kinds", dict(registry._kinds))

    def register(**handlers) -> None:
        for name, handler in handlers.items():
            registry.job_kind(name, handler)

    return register
