"""What every table module shares: the metadata, the column types, the account column."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
Ms = sa.BigInteger
Id = sa.String(128)


def account_column() -> sa.Column[str]:
    return sa.Column("account_id", Id, nullable=False)
