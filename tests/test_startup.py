"""Start-up work shared by processes that start together (core/startup.py)."""

from shelfcall.core import startup


def test_static_files_are_collected_again_only_when_what_is_collected_changes(settings, tmp_path, monkeypatch):
    settings.STATIC_ROOT = tmp_path / "static"
    collections = []

    def collectstatic(*args, **options):
        collections.append(args)
        settings.STATIC_ROOT.mkdir(exist_ok=True)

    monkeypatch.setattr(startup, "call_command", collectstatic)
    startup.collect_static()
    startup.collect_static()
    assert len(collections) == 1
    settings.STATIC_URL = "/assets/"
    startup.collect_static()
    assert len(collections) == 2


def test_static_files_are_collected_again_when_the_folder_is_gone(settings, tmp_path, monkeypatch):
    settings.STATIC_ROOT = tmp_path / "static"
    collections = []
    monkeypatch.setattr(startup, "call_command", lambda *args, **options: collections.append(args))
    startup.collect_static()
    startup.collect_static()  # the stamp is there, the folder is not
    assert len(collections) == 2
