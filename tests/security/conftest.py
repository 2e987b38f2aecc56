from tests.notify.conftest import all_statements, receiver, start_worker

__all__ = ["all_statements", "receiver", "start_worker"]
