"""The shapes that flow between the engine's stages: frames of records, pairs, gammas."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

#: Gamma of a comparison where either side is missing: it weighs nothing.
NULL_LEVEL = -1


@dataclass(frozen=True)
class Frame:
    """Records as columns. `ids` ascend, so a pair (i, j) with i < j is ordered by record id.

    String columns are object arrays holding str or None; integer columns use 0 (dates) or
    -1 (sex) for unknown, see `dedup.features.INT_COLUMNS`.
    """

    ids: IntArray
    columns: dict[str, np.ndarray]
    #: Per-column integer codes and, for string columns, the value of each code, computed
    #: once (`dedup.features.column_codes`).
    codes: dict[str, IntArray] = field(default_factory=dict, repr=False, compare=False)
    code_values: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, index: IntArray) -> Frame:
        """The rows at `index` (positions, not ids)."""
        return Frame(self.ids[index], {k: v[index] for k, v in self.columns.items()})


@dataclass(frozen=True)
class Pairs:
    """Candidate pairs as positions into one frame: left < right, each tagged with the index
    of the first blocking rule that produced it."""

    left: IntArray
    right: IntArray
    rule: SmallArray

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def empty(cls) -> Pairs:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8))


@dataclass(frozen=True)
class Gammas:
    """The comparison vector of every pair: one int8 array per comparison (level index, 0 the
    strongest, or NULL_LEVEL), in the order of the comparisons that produced them."""

    names: tuple[str, ...]
    matrix: SmallArray  # shape (pairs, comparisons)

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def column(self, name: str) -> SmallArray:
        return self.matrix[:, self.names.index(name)]


@dataclass(frozen=True)
class Scores:
    """Match weight (log2 Bayes factor sum with the prior) and probability per pair."""

    weight: FloatArray
    probability: FloatArray
    #: Each comparison's part of the weight, shape (pairs, comparisons), when asked for.
    contributions: FloatArray | None = field(default=None, repr=False)
