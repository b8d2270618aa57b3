import pytest

from tests import labelstudio_server


@pytest.fixture(scope="session")
def live_label_studio():
    """A real Label Studio on 127.0.0.1 for this test session. If it cannot be installed or
    started, the tests that use it fail with the reason: they never pass or skip silently."""
    try:
        live = labelstudio_server.start()
    except labelstudio_server.LabelStudioUnavailable as error:
        pytest.fail(f"Label Studio is needed for this test and could not be set up: {error}", pytrace=False)
    yield live
    labelstudio_server.stop(live)
