"""The hash chain of the consent ledger: canonical forms and digests (pure)."""

import hashlib
import json
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64

# What json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# gives, with the encoder built once rather than per call (an import hashes millions).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_text(data) -> str:
    return _CANONICAL.encode(data)


def canonical_json(data) -> bytes:
    return canonical_text(data).encode()


def proof_digest(proof: dict) -> str:
    """Digest of an event's proof. Proofs carry a random nonce, so the digest
    left behind after erasure cannot be used to guess the erased values."""
    return canonical_proof(proof)[1]


def canonical_proof(proof: dict) -> tuple[str, str]:
    """A proof's canonical JSON text and its digest (the ledger stores that text)."""
    text = canonical_text(proof)
    return text, hashlib.sha256(text.encode()).hexdigest()


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: dict) -> str:
    """Hash of one event: the previous hash and the event's non-personal fields."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_json(fields)).hexdigest()


def hashed_fields(event) -> dict:
    """The fields of a ``ConsentEvent`` (or any object with them) that the hash covers."""
    return {
        "seq": event.seq,
        "subject_key": str(event.subject_key),
        "purpose_id": event.purpose_id,
        "kind": str(event.kind),
        "needs_confirmation": bool(event.needs_confirmation),
        "occurred_at": utc_iso(event.occurred_at),
        "channel": str(event.channel),
        "channel_ref": event.channel_ref,
        "privacy_statement_version": event.privacy_statement_version,
        "confirms_seq": event.confirms_seq,
        "proof_digest": event.proof_digest,
    }
