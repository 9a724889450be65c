"""The typed request bodies of the JSON API (pydantic), as ``shared/spec/api.md`` states them.

``profile`` is checked by the engine itself (fact names, values, money, dates), exactly as a
profile file is, so that the API and the command line refuse the same things with the same words.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class EvaluateRequest(BaseModel):
    """``POST /api/evaluate``."""

    model_config = ConfigDict(extra="forbid")

    profile: dict[str, Any] = Field(description="fact names to values, as in a profile file; a fact left out is unknown")
    as_of: Optional[str] = Field(None, description="judge the case at this date (YYYY-MM-DD or 2021年3月1日); "
                                                   "overrides application_date")


class ExplainRequest(EvaluateRequest):
    """``POST /api/why`` and ``POST /api/why-not``."""

    id: str = Field(description="a conclusion or benefit id, e.g. settlement_subsidy")
    lang: Literal["zh", "en"] = Field("zh", description="the language of labels and explanations")


class ErrorBody(BaseModel):
    """A bad profile or request (400, 422)."""

    error: str
    field: Optional[str] = None
    suggestion: Optional[str] = None
    allowed: Optional[list[Any]] = None
