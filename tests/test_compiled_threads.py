"""The threading layer ``--workers`` asks numba for (checker/engines/explicit/compiled/threads.py)."""

from __future__ import annotations

import numba
import pytest

from checker.engines.explicit.compiled import threads

ENV = ("NUMBA_THREADING_LAYER", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:  # set, then delete: the undo then restores what was there, or nothing
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    monkeypatch.setattr(numba.config, "THREADING_LAYER", "default")
    monkeypatch.setattr(numba.config, "THREADING_LAYER_PRIORITY", ["tbb", "omp", "workqueue"])
    return monkeypatch


def test_openmp_first_and_told_not_to_spin(clean: pytest.MonkeyPatch) -> None:
    clean.setattr(threads, "_gomp_loaded", lambda: False)
    threads.choose_layer()
    assert numba.config.THREADING_LAYER_PRIORITY == ["omp", "workqueue", "tbb"]
    assert threads.os.environ["GOMP_SPINCOUNT"] == "0"


def test_the_users_openmp_waiting_is_left_alone(clean: pytest.MonkeyPatch) -> None:
    clean.setattr(threads, "_gomp_loaded", lambda: False)
    clean.setenv("OMP_WAIT_POLICY", "active")
    threads.choose_layer()
    assert numba.config.THREADING_LAYER_PRIORITY[0] == "omp"
    assert "GOMP_SPINCOUNT" not in threads.os.environ


def test_workqueue_when_libgomp_was_loaded_before_its_spin_count_could_be_set(
        clean: pytest.MonkeyPatch) -> None:
    clean.setattr(threads, "_gomp_loaded", lambda: True)
    threads.choose_layer()
    assert numba.config.THREADING_LAYER_PRIORITY[0] == "workqueue"
    assert "GOMP_SPINCOUNT" not in threads.os.environ


def test_a_layer_named_by_the_user_is_kept(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("NUMBA_THREADING_LAYER", "workqueue")
    threads.choose_layer()
    assert numba.config.THREADING_LAYER_PRIORITY == ["tbb", "omp", "workqueue"]
    assert "GOMP_SPINCOUNT" not in threads.os.environ
