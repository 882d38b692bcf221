"""The EC2 and EBS direct API clients of an ``ami:`` target, with every error turned into one line that
names the refused IAM action or what failed, and the requests counted (retries included). AWS's own
error text is never quoted: it can name resources and is not written for a gate's one-line reason."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

from imagevet.errors import TargetError

MAX_ATTEMPTS = 4
NO_CREDENTIALS = "no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"

_CODE = re.compile(r"[A-Za-z][A-Za-z0-9._]{0,63}")
_REASON = re.compile(r"[A-Z][A-Z_]{0,47}")
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_REJECTED = {
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidAccessKeyId",
}
_THROTTLED = {
    "RequestThrottledException",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
}
_UNREACHABLE = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ProxyConnectionError",
    "SSLError",
}


class Api:
    """The two clients (thread-safe, created once), the requests counted so far, and every call's errors
    turned into one line."""

    def __init__(self, ec2: Any, ebs: Any, region: str) -> None:
        self.ec2 = ec2
        self.ebs = ebs
        self.region = region
        self.encrypted = False
        self._count = 0
        self._lock = threading.Lock()

    def requests(self) -> int:
        with self._lock:
            return self._count

    def _counted(self, attempts: int) -> None:
        with self._lock:
            self._count += attempts

    def call(self, client: Any, operation: str, action: str, subject: str, **kwargs: Any) -> dict[str, Any]:
        """``client.<operation>(**kwargs)``; counts its attempts (botocore retries inside the call and says
        how often in RetryAttempts) and raises a TargetError prefixed with ``subject``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(client, operation)(**kwargs)
        except ClientError as exc:
            self._counted(1 + _retries(exc.response))
            raise TargetError(self.refusal(subject, action, exc.response)) from exc
        except BotoCoreError as exc:
            name = exc.__class__.__name__
            # connection errors are retried too, without a response to say so: count every attempt
            self._counted(MAX_ATTEMPTS if name in _UNREACHABLE else 1)
            raise TargetError(f"{subject}: {self.unreachable(action, name)}") from exc
        self._counted(1 + _retries(response))
        return response

    def unreachable(self, action: str, name: str) -> str:
        if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
            return NO_CREDENTIALS
        api = "EC2 API" if action.startswith("ec2:") else "EBS direct API"
        if name in _UNREACHABLE:
            return f"cannot reach the {api} in {self.region} ({name}, {MAX_ATTEMPTS} attempts)"
        return f"{action} failed ({name})"

    def refusal(self, subject: str, action: str, response: dict[str, Any]) -> str:
        """The one line for an error response: ``subject`` (``ami:ami-…``, ``snapshot snap-…``), then
        the refused IAM action or what failed; AWS's own message is never quoted."""
        if self._not_found(response):
            return f"{subject} not found" + ("" if action.startswith("ebs:") else f" in {self.region}")
        return f"{subject}: {self._refusal(action, response)}"

    @staticmethod
    def _not_found(response: dict[str, Any]) -> bool:
        code = (response.get("Error") or {}).get("Code")
        reason = response.get("Reason")
        if code == "ResourceNotFoundException":
            return reason in (None, "", "SNAPSHOT_NOT_FOUND")
        return False

    def _refusal(self, action: str, response: dict[str, Any]) -> str:
        error = response.get("Error") or {}
        raw = str(error.get("Code", ""))
        code = raw if _CODE.fullmatch(raw) else ""
        status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        raw_reason = str(response.get("Reason") or "")
        reason = raw_reason if _REASON.fullmatch(raw_reason) else ""
        if code in _DENIED or (not code and status == 403 and action.startswith("ebs:")):
            line = f"access denied: the credentials lack {action}"
            if action.startswith("ebs:") and (reason == "DEPENDENCY_ACCESS_DENIED" or self.encrypted):
                line += " (or kms:Decrypt on the key of the encrypted snapshot)"
            elif reason == "UNAUTHORIZED_ACCOUNT":
                line += " (UNAUTHORIZED_ACCOUNT: the EBS direct APIs read only this account's snapshots and"
                line += " those shared with it, never public ones)"
            return line
        if code in ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"):
            return f"not found in {self.region} (or not visible to these credentials)"
        if code == "InvalidAMIID.Malformed":
            return "not a valid AMI id"
        if code == "ResourceNotFoundException":
            return f"{action} found nothing ({reason or code})"
        if code in _REJECTED:
            return f"AWS rejected the credentials ({code})"
        if code in _THROTTLED or status == 429:
            return f"{action} throttled after {MAX_ATTEMPTS} attempts ({code or 'HTTP 429'}): try again later"
        if code == "ServiceQuotaExceededException":
            return f"{action} refused: a service quota is exceeded ({reason or code})"
        detail = " ".join(part for part in (code, reason) if part)
        if status >= 500:
            return (
                f"{action} failed (HTTP {status} {detail or 'InternalError'}) after {MAX_ATTEMPTS} attempts"
            )
        return f"{action} failed (HTTP {status or '?'} {detail or 'error'})"

    def close(self) -> None:
        for client in (self.ec2, self.ebs):
            with contextlib.suppress(Exception):  # closing connections cannot change a result
                client.close()


def _retries(response: dict[str, Any]) -> int:
    value = (response.get("ResponseMetadata") or {}).get("RetryAttempts", 0)
    return value if isinstance(value, int) and 0 <= value < MAX_ATTEMPTS else 0
