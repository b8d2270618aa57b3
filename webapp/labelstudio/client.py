"""Talking to a live Label Studio through label-studio-sdk (2.x `LabelStudio` client), with errors
that name what was wrong (the URL, the token, the project id) and never repeat the token."""
import httpx

from prefkit.labelstudio import LabelStudioError


def connect(url: str, token: str):
    from label_studio_sdk import LabelStudio  # imported here: the SDK is an optional extra

    if not url.startswith(("http://", "https://")):
        raise LabelStudioError(f"Label Studio URL {url!r} must start with http:// or https://")
    client = LabelStudio(base_url=url.rstrip("/"), api_key=token, timeout=60)
    call(lambda: client.users.whoami(), url=url, what="checking the token")
    return client


def call(fn, *, url: str, what: str, project_id: int | None = None):
    from label_studio_sdk.core.api_error import ApiError

    try:
        return fn()
    except httpx.HTTPError as error:
        raise LabelStudioError(f"Label Studio at {url} is unreachable ({what}): {type(error).__name__}") from None
    except ApiError as error:
        if error.status_code in (401, 403):
            raise LabelStudioError(f"Label Studio at {url} refused the token ({what}): "
                                   f"HTTP {error.status_code}") from None
        if error.status_code == 404 and project_id is not None:
            raise LabelStudioError(f"Label Studio at {url} has no project {project_id}") from None
        raise LabelStudioError(f"Label Studio at {url} answered HTTP {error.status_code} ({what})") from None
