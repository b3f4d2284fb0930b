"""Treatment allocation: permuted blocks, stratification and minimization.

A randomized study assigns each enrolled subject to an arm (or, in a split-scalp study, picks
which half of the scalp gets the active product) so that neither the subject's prognosis nor
anyone's expectations can steer the choice. This module implements the two schemes a clinic
study needs:

``permuted_blocks``
    The sequence is cut into blocks; each block holds every arm in the allocation ratio
    (``ratio * m`` slots per arm) in random order, and ``m`` is drawn at random per block from
    ``block_multiples`` so that the end of a block cannot be counted off. With
    ``strata_factors`` every combination of those factors' levels (a stratum) has its own
    independent sequence (stratified randomization).
``minimization``
    Pocock and Simon's method: the next subject goes, with probability ``p_best``, to the arm
    that keeps the marginal counts of every factor level closest to the allocation ratio;
    otherwise to another arm. It balances several factors in a small study where one sequence
    per stratum would leave most strata nearly empty.

A split-scalp study uses the same schemes with the arms ``("L", "R")``: the arm is the side
that gets the active product.

Every allocation is a pure function of the specification (seed, algorithm version and
parameters), the subject's factor levels and the earlier subjects in randomization order:
nothing is stored here and nothing is drawn in advance. A permuted-block sequence is
generated lazily, block by block, from a counter-mode SHA-256 stream keyed by
``(version, seed, stratum, block index)``; minimization's random element comes from a stream
keyed by ``(version, seed, number of earlier subjects)``. The stream uses only :mod:`hashlib`,
so a stored sequence is reproduced exactly by any later Python or NumPy; a change to any of
this arithmetic must bump :data:`ALGORITHM_VERSION`.

References
----------
.. [1] Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic
   factors in the controlled clinical trial. Biometrics 1975;31(1):103-115.
   doi:10.2307/2529712
.. [2] Scott NW, McPherson GC, Ramsay CR, Campbell MK. The method of minimization for
   allocation to clinical trials: a review. Control Clin Trials 2002;23(6):662-674.
   doi:10.1016/S0197-2456(02)00242-8
.. [3] Altman DG, Bland JM. Treatment allocation by minimisation. BMJ 2005;330:843.
   doi:10.1136/bmj.330.7495.843
.. [4] Blackwell D, Hodges JL. Design for the control of selection bias. Ann Math Stat
   1957;28(2):449-460. doi:10.1214/aoms/1177706973
.. [5] Matts JP, Lachin JM. Properties of permuted-block randomization in clinical trials.
   Control Clin Trials 1988;9(4):327-344. doi:10.1016/0197-2456(88)90047-5
.. [6] Rosenberger WF, Lachin JM. Randomization in Clinical Trials: Theory and Practice,
   2nd ed. Wiley; 2016. Chapters 3 and 9 (restricted randomization, selection bias).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import product
from typing import Any

from anagen.evidence.results import Result

ALGORITHM_VERSION = "1"
"""The allocation arithmetic's version, stored with every sequence. Bump it (and keep the old
branch) whenever a change would assign any subject differently for the same seed."""

SUPPORTED_VERSIONS = ("1",)
ALGORITHMS = ("permuted_blocks", "minimization")
SPLIT_SCALP_ARMS = ("L", "R")
"""Arm codes for a split-scalp study: the side of the scalp that gets the active product."""

_FORBIDDEN_IN_KEY = ("|", "=")
_EPS = 1e-12


# --------------------------------------------------------------------------------------------
# The random stream
# --------------------------------------------------------------------------------------------


class _HashStream:
    """Deterministic uniform draws from SHA-256 in counter mode.

    The 32-byte key is SHA-256 of the parts joined by a unit separator; output block ``i`` is
    SHA-256(key || i as 8 big-endian bytes), read 8 bytes at a time as unsigned integers.
    Integers below ``n`` use rejection sampling, so every value is exactly equally likely.
    """

    def __init__(self, *parts: str) -> None:
        self._key = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
        self._counter = 0
        self._buffer = b""

    def _u64(self) -> int:
        if len(self._buffer) < 8:
            self._buffer += hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        value, self._buffer = int.from_bytes(self._buffer[:8], "big"), self._buffer[8:]
        return value

    def below(self, n: int) -> int:
        """An integer uniformly distributed on ``0 .. n-1``."""
        if n <= 0:
            raise ValueError("below() needs a positive bound")
        limit = (1 << 64) - (1 << 64) % n
        while True:
            x = self._u64()
            if x < limit:
                return x % n

    def uniform(self) -> float:
        """A float uniformly distributed on [0, 1) with 53 random bits."""
        return (self._u64() >> 11) / float(1 << 53)

    def shuffle(self, items: list[Any]) -> None:
        """Fisher-Yates (Durstenfeld) shuffle in place."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def weighted(self, options: Sequence[str], weights: Sequence[int]) -> str:
        """One option, with probability proportional to its integer weight."""
        r = self.below(sum(weights))
        for option, weight in zip(options, weights):
            if r < weight:
                return option
            r -= weight
        raise AssertionError("unreachable")  # pragma: no cover


def _stream(spec: RandomizationSpec, purpose: str, *parts: str) -> _HashStream:
    return _HashStream("anagen.randomization", f"v{spec.version}", f"seed={spec.seed}", purpose, *parts)


# --------------------------------------------------------------------------------------------
# Specification and allocation
# --------------------------------------------------------------------------------------------


def _as_tuple(value: Any, name: str) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a list of values, got {value!r}")
    return tuple(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_names(names: tuple[Any, ...], what: str) -> None:
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{what} must be non-empty text, got {name!r}")
        if any(ch in name for ch in _FORBIDDEN_IN_KEY):
            raise ValueError(f"{what} {name!r} may not contain '|' or '='; rename it")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} must be distinct, got {list(names)}")


@dataclasses.dataclass(frozen=True)
class RandomizationSpec(Result):
    """Everything needed to reproduce a study's allocations.

    Parameters
    ----------
    algorithm : {"permuted_blocks", "minimization"}
    arms : tuple of str
        Arm codes, e.g. ``("A", "B")``; a split-scalp study uses ``("L", "R")``, the side
        that gets the active product.
    ratio : tuple of int
        Allocation ratio per arm, e.g. ``(1, 1)`` or ``(2, 1)``.
    seed : int
        Non-negative; chosen once per study and kept secret from everyone who enrols.
    block_multiples : tuple of int
        Permuted blocks: a block holds ``ratio[i] * m`` slots of arm ``i``, with ``m`` drawn
        uniformly from these values for each block. ``(1, 2)`` with a 1:1 ratio gives blocks
        of 2 and 4.
    strata_factors : tuple of str
        One independent sequence (permuted blocks) or one independent minimization (counts
        taken only within the stratum) per combination of these factors' levels.
    minimization_factors : tuple of str
        Minimization: the factors whose level counts are balanced marginally.
    p_best : float
        Minimization: probability, in (0, 1], of taking the arm that minimizes imbalance.
        1 is deterministic except for ties; Pocock and Simon suggest about 0.75 to 0.9.
    version : str
        The allocation arithmetic's version (:data:`ALGORITHM_VERSION`).

    Raises
    ------
    ValueError
        With a message that says which parameter is wrong and what is allowed.
    """

    algorithm: str
    arms: tuple[str, ...]
    ratio: tuple[int, ...]
    seed: int
    block_multiples: tuple[int, ...] = (1, 2)
    strata_factors: tuple[str, ...] = ()
    minimization_factors: tuple[str, ...] = ()
    p_best: float = 0.8
    version: str = ALGORITHM_VERSION

    def __post_init__(self) -> None:
        for name in ("arms", "ratio", "block_multiples", "strata_factors", "minimization_factors"):
            object.__setattr__(self, name, _as_tuple(getattr(self, name), name))
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown randomization algorithm {self.algorithm!r}; use one of {', '.join(ALGORITHMS)}")
        if str(self.version) not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"randomization algorithm version {self.version!r} is not supported by this library "
                f"(it reproduces version {', '.join(SUPPORTED_VERSIONS)})"
            )
        object.__setattr__(self, "version", str(self.version))
        if len(self.arms) < 2:
            raise ValueError(f"a randomized study needs at least two arms, got {list(self.arms)}")
        _check_names(self.arms, "arm codes")
        if len(self.ratio) != len(self.arms):
            raise ValueError(
                f"the allocation ratio has {len(self.ratio)} numbers but there are {len(self.arms)} arms; "
                "give one whole number per arm, e.g. (1, 1) or (2, 1)"
            )
        if not all(_is_int(r) and r >= 1 for r in self.ratio):
            raise ValueError(f"allocation ratio must be whole numbers of at least 1, got {list(self.ratio)}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a whole number of 0 or more, got {self.seed!r}")
        if not self.block_multiples or not all(_is_int(m) and m >= 1 for m in self.block_multiples):
            raise ValueError(f"block multiples must be whole numbers of at least 1, got {list(self.block_multiples)}")
        if len(set(self.block_multiples)) != len(self.block_multiples):
            raise ValueError(f"block multiples must be distinct, got {list(self.block_multiples)}")
        _check_names(self.strata_factors, "strata factor names")
        _check_names(self.minimization_factors, "minimization factor names")
        if isinstance(self.p_best, bool) or not isinstance(self.p_best, (int, float)) or not (0 < self.p_best <= 1):
            raise ValueError(f"p_best must be a probability above 0 and at most 1, got {self.p_best!r}")
        if self.algorithm == "minimization" and not self.minimization_factors:
            raise ValueError("minimization needs at least one minimization factor (e.g. sex, stage group)")
        if self.algorithm == "permuted_blocks" and self.minimization_factors:
            raise ValueError(
                "minimization_factors apply only to algorithm 'minimization'; for permuted blocks "
                "use strata_factors"
            )
        overlap = set(self.strata_factors) & set(self.minimization_factors)
        if overlap:
            raise ValueError(f"factor(s) {sorted(overlap)} are both strata and minimization factors; use each once")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RandomizationSpec:
        """Rebuild a specification from :meth:`to_dict`'s output (extra keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def ratio_total(self) -> int:
        return sum(self.ratio)

    @property
    def factors(self) -> tuple[str, ...]:
        """Every factor the scheme uses: strata factors, then minimization factors."""
        return self.strata_factors + self.minimization_factors


@dataclasses.dataclass(frozen=True)
class Allocation(Result):
    """One subject's assignment.

    ``stratum`` is :func:`stratum_key` (``""`` when unstratified); ``index_in_stratum`` the
    0-based position in that stratum's sequence; ``sequence_number`` the 0-based position
    over the whole study. ``block_index`` and ``block_size`` are set for permuted blocks only.
    """

    arm: str
    stratum: str
    index_in_stratum: int
    sequence_number: int
    block_index: int | None
    block_size: int | None
    algorithm: str
    version: str


def _level(factors: Mapping[str, Any], name: str, who: str) -> str:
    if name not in factors or factors[name] is None:
        raise ValueError(f"{who} has no level for factor {name!r}; record it before randomizing")
    level = str(factors[name]).strip()
    if not level:
        raise ValueError(f"{who} has an empty level for factor {name!r}; record it before randomizing")
    if any(ch in level for ch in _FORBIDDEN_IN_KEY):
        raise ValueError(f"{who}: level {level!r} of factor {name!r} may not contain '|' or '='")
    return level


def _stratum(spec: RandomizationSpec, factors: Mapping[str, Any], who: str) -> str:
    return "|".join(f"{name}={_level(factors, name, who)}" for name in sorted(spec.strata_factors))


def stratum_key(spec: RandomizationSpec, factors: Mapping[str, str]) -> str:
    """The stratum a subject belongs to, as ``"sex=F|site=BHM"`` (factor names sorted).

    Parameters
    ----------
    spec : RandomizationSpec
    factors : mapping of str to str
        The subject's factor levels; keys not in ``spec.strata_factors`` are ignored.

    Returns
    -------
    str
        ``""`` when the study is unstratified.

    Raises
    ------
    ValueError
        When a strata factor is missing or empty (the message names it).
    """
    return _stratum(spec, factors, "the subject")


# --------------------------------------------------------------------------------------------
# Permuted blocks
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _block(spec: RandomizationSpec, stratum: str, block_index: int) -> tuple[str, ...]:
    stream = _stream(spec, "permuted_blocks", f"stratum={stratum}", f"block={block_index}")
    m = spec.block_multiples[stream.below(len(spec.block_multiples))]
    slots = [arm for arm, r in zip(spec.arms, spec.ratio) for _ in range(r * m)]
    stream.shuffle(slots)
    return tuple(slots)


def permuted_block_sequence(spec: RandomizationSpec, stratum: str = "") -> Iterator[tuple[str, int, int]]:
    """The endless permuted-block sequence of one stratum, generated lazily.

    Parameters
    ----------
    spec : RandomizationSpec
        Must use ``algorithm="permuted_blocks"``.
    stratum : str
        A :func:`stratum_key` value; ``""`` when unstratified.

    Yields
    ------
    (arm, block_index, block_size) : tuple of str, int, int
        Block ``b`` draws its multiple ``m`` and its order from its own stream, so the k-th
        slot costs only the blocks before it and never depends on other strata.
    """
    if spec.algorithm != "permuted_blocks":
        raise ValueError("permuted_block_sequence needs a permuted_blocks specification")
    block_index = 0
    while True:
        block = _block(spec, stratum, block_index)
        for arm in block:
            yield arm, block_index, len(block)
        block_index += 1


def _slot(spec: RandomizationSpec, stratum: str, index: int) -> tuple[str, int, int]:
    block_index = 0
    while True:
        block = _block(spec, stratum, block_index)
        if index < len(block):
            return block[index], block_index, len(block)
        index -= len(block)
        block_index += 1


# --------------------------------------------------------------------------------------------
# Minimization
# --------------------------------------------------------------------------------------------


def marginal_imbalance(counts: Mapping[str, int], ratio: Mapping[str, int]) -> float:
    """Imbalance of one factor level: the range of ``count / ratio`` over the arms.

    For two arms in a 1:1 ratio this is ``|n_A - n_B|``, the measure of Pocock and Simon
    [1]_ (their ``D = range``) and of Altman and Bland [3]_. Dividing by the ratio makes a
    2:1 study with counts (4, 2) perfectly balanced.
    """
    values = [counts.get(arm, 0) / r for arm, r in ratio.items()]
    return max(values) - min(values)


def minimization_totals(
    spec: RandomizationSpec,
    level_counts: Mapping[str, Mapping[str, int]],
) -> dict[str, float]:
    """Total imbalance if the next subject went to each arm (Pocock and Simon's ``G``).

    Parameters
    ----------
    spec : RandomizationSpec
    level_counts : mapping of factor name to (mapping of arm to int)
        For each minimization factor, how many earlier subjects *with the new subject's level*
        of that factor are in each arm.

    Returns
    -------
    dict of str to float
        For each arm, the sum over factors of :func:`marginal_imbalance` after adding the new
        subject to that arm (equal factor weights) [1]_, [2]_.
    """
    ratio = dict(zip(spec.arms, spec.ratio))
    totals: dict[str, float] = {}
    for candidate in spec.arms:
        total = 0.0
        for counts in level_counts.values():
            trial = {arm: counts.get(arm, 0) + (arm == candidate) for arm in spec.arms}
            total += marginal_imbalance(trial, ratio)
        totals[candidate] = total
    return totals


def _best_arms(totals: Mapping[str, float]) -> list[str]:
    lowest = min(totals.values())
    return [arm for arm, total in totals.items() if total <= lowest + _EPS]


def _level_counts(
    spec: RandomizationSpec,
    factors: Mapping[str, Any],
    earlier: Sequence[tuple[Mapping[str, Any], str, int]],
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in spec.minimization_factors:
        level = _level(factors, name, "the subject")
        counts = dict.fromkeys(spec.arms, 0)
        for other, arm, position in earlier:
            if _level(other, name, f"earlier subject #{position}") == level:
                counts[arm] += 1
        out[name] = counts
    return out


def _minimize(spec: RandomizationSpec, totals: Mapping[str, float], draw_key: int) -> str:
    stream = _stream(spec, "minimization", f"n={draw_key}")
    weights = dict(zip(spec.arms, spec.ratio))
    best = _best_arms(totals)
    u = stream.uniform()  # always drawn, so the stream's use does not depend on the counts
    if len(best) == len(spec.arms):
        pool = best  # all tied: a random arm in the allocation ratio
    elif u < spec.p_best:
        pool = best
    else:
        pool = [arm for arm in spec.arms if arm not in best]
    return stream.weighted(pool, [weights[a] for a in pool])


# --------------------------------------------------------------------------------------------
# The one call the studies app makes
# --------------------------------------------------------------------------------------------


def _checked_previous(
    spec: RandomizationSpec, previous: Sequence[tuple[Mapping[str, Any], str]]
) -> list[tuple[Mapping[str, Any], str, int]]:
    out = []
    for position, item in enumerate(previous):
        try:
            other, arm = item
        except (TypeError, ValueError):
            raise ValueError(f"earlier subject #{position} must be a (factors, arm) pair, got {item!r}") from None
        if arm not in spec.arms:
            raise ValueError(
                f"earlier subject #{position} has arm {arm!r}, which is not one of this study's arms "
                f"({', '.join(spec.arms)})"
            )
        if not isinstance(other, Mapping):
            raise ValueError(f"earlier subject #{position}'s factors must be a mapping, got {other!r}")
        out.append((other, arm, position))
    return out


def allocate(
    spec: RandomizationSpec,
    *,
    factors: Mapping[str, str],
    previous: Sequence[tuple[Mapping[str, str], str]],
) -> Allocation:
    """Assign the next subject.

    Pure and deterministic: the same ``spec``, ``factors`` and ``previous`` always give the
    same :class:`Allocation`, so the caller can run it inside its locked transaction and a
    statistician can re-derive every assignment later.

    Parameters
    ----------
    spec : RandomizationSpec
    factors : mapping of str to str
        The new subject's factor levels (strata and minimization factors; others ignored).
    previous : sequence of (factors, arm)
        Every earlier subject of the study, in randomization order.

    Returns
    -------
    Allocation

    Raises
    ------
    ValueError
        A factor missing or empty (for the new subject or an earlier one), or an earlier arm
        that is not one of the study's arms.

    Notes
    -----
    Permuted blocks: the subject takes the next slot (``index_in_stratum``) of its stratum's
    sequence, generated lazily from ``(seed, version, stratum)``. Minimization: the earlier
    subjects *of the same stratum* (all of them when unstratified) give the marginal counts;
    the arm minimizing the total imbalance is taken with probability ``p_best`` (ties broken
    at random in the allocation ratio), using a stream keyed by ``(seed, version,
    len(previous))`` [1]_.

    Examples
    --------
    >>> spec = RandomizationSpec(algorithm="permuted_blocks", arms=("A", "B"), ratio=(1, 1), seed=7)
    >>> first = allocate(spec, factors={}, previous=[])
    >>> second = allocate(spec, factors={}, previous=[({}, first.arm)])
    >>> (first.sequence_number, second.sequence_number, second.block_index)
    (0, 1, 0)
    """
    if not isinstance(factors, Mapping):
        raise ValueError(f"the subject's factors must be a mapping of factor name to level, got {factors!r}")
    earlier = _checked_previous(spec, previous)
    stratum = _stratum(spec, factors, "the subject")
    same_stratum = [e for e in earlier if _stratum(spec, e[0], f"earlier subject #{e[2]}") == stratum]
    index = len(same_stratum)
    if spec.algorithm == "permuted_blocks":
        arm, block_index, block_size = _slot(spec, stratum, index)
        return Allocation(
            arm=arm, stratum=stratum, index_in_stratum=index, sequence_number=len(earlier),
            block_index=block_index, block_size=block_size, algorithm=spec.algorithm, version=spec.version,
        )
    totals = minimization_totals(spec, _level_counts(spec, factors, same_stratum))
    arm = _minimize(spec, totals, len(earlier))
    return Allocation(
        arm=arm, stratum=stratum, index_in_stratum=index, sequence_number=len(earlier),
        block_index=None, block_size=None, algorithm=spec.algorithm, version=spec.version,
    )


def allocate_all(spec: RandomizationSpec, subjects: Sequence[Mapping[str, str]]) -> list[Allocation]:
    """Allocate subjects one after another, as a study enrolling them in this order would.

    A convenience for simulations and tests; a live study calls :func:`allocate` once per
    subject. Cost is linear per subject in the number of earlier subjects.
    """
    previous: list[tuple[Mapping[str, str], str]] = []
    out = []
    for factors in subjects:
        allocation = allocate(spec, factors=factors, previous=previous)
        previous.append((factors, allocation.arm))
        out.append(allocation)
    return out


def verify_sequence(spec: RandomizationSpec, allocations: Sequence[tuple[Mapping[str, str], str]]) -> list[int]:
    """Positions whose recorded arm is not what :func:`allocate` gives from the earlier ones.

    An empty list means the recorded allocations are exactly reproduced from the seed: the
    audit a statistician runs before unblinding.
    """
    mismatches = []
    previous: list[tuple[Mapping[str, str], str]] = []
    for position, (factors, arm) in enumerate(allocations):
        if allocate(spec, factors=factors, previous=previous).arm != arm:
            mismatches.append(position)
        previous.append((factors, arm))
    return mismatches


# --------------------------------------------------------------------------------------------
# Balance and predictability
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BalanceReport(Result):
    """Counts per arm and how predictable the sequence was.

    Imbalance is the range of ``count / ratio`` over the arms (``|n_A - n_B|`` for 1:1).
    ``predictability`` is the proportion of assignments a guesser calls correctly from what
    came before (ties credited ``1/k``; ``None`` in JSON when there are no subjects):

    * permuted blocks: the convergence strategy of Blackwell and Hodges [4]_ within each
      stratum (guess the arm furthest behind its share); ``expected_predictability`` is its
      exact expectation for the scheme's block sizes (:func:`expected_guess_rate`);
    * minimization: a guesser who knows the earlier subjects' factors and guesses the arm
      that minimizes imbalance (close to ``p_best`` once ties are rare).

    ``predictability_chance`` is the hit rate with no information at all (always guessing
    the arm with the largest share of the ratio). A stratum listed in ``levels`` with no
    subjects appears with zero counts, zero imbalance and in ``empty_strata``.
    """

    method: str
    algorithm: str
    version: str
    arms: tuple[str, ...]
    ratio: tuple[int, ...]
    n: int
    counts: dict[str, int]
    by_stratum: dict[str, dict[str, int]]
    by_factor: dict[str, dict[str, dict[str, int]]]
    imbalance: float
    max_stratum_imbalance: float
    max_factor_imbalance: float
    max_imbalance: float
    empty_strata: tuple[str, ...]
    predictability: float
    predictability_method: str
    predictability_chance: float
    expected_predictability: float | None


def _convergence_credit(spec: RandomizationSpec, counts: Mapping[str, int], actual: str) -> float:
    """Blackwell-Hodges convergence guess: the arm whose count is furthest below its share."""
    k = sum(counts.values())
    deficits = {arm: (k + 1) * r / spec.ratio_total - counts[arm] for arm, r in zip(spec.arms, spec.ratio)}
    top = max(deficits.values())
    guesses = [arm for arm, d in deficits.items() if d >= top - _EPS]
    return (1.0 / len(guesses)) if actual in guesses else 0.0


def balance_report(
    spec: RandomizationSpec,
    allocations: Sequence[tuple[Mapping[str, str], str]],
    *,
    levels: Mapping[str, Sequence[str]] | None = None,
) -> BalanceReport:
    """Counts per arm overall, per stratum and per factor level; imbalance; predictability.

    Parameters
    ----------
    spec : RandomizationSpec
    allocations : sequence of (factors, arm)
        The study's subjects in randomization order.
    levels : mapping of factor name to its levels, optional
        Lists strata and factor levels that have no subjects yet, so they are reported with
        zero counts (and strata in ``empty_strata``). Factors named here are reported too.

    Returns
    -------
    BalanceReport
        With no subjects: ``n = 0``, zero counts and imbalance, ``predictability`` NaN
        (``null`` in JSON).
    """
    earlier = _checked_previous(spec, allocations)
    levels = {name: [str(v) for v in values] for name, values in (levels or {}).items()}
    factor_names = list(spec.factors) + [name for name in sorted(levels) if name not in spec.factors]
    ratio = dict(zip(spec.arms, spec.ratio))

    def zero() -> dict[str, int]:
        return dict.fromkeys(spec.arms, 0)

    counts = zero()
    by_stratum: dict[str, dict[str, int]] = {}
    if spec.strata_factors and all(name in levels for name in spec.strata_factors):
        names = sorted(spec.strata_factors)
        for combo in product(*(levels[name] for name in names)):
            by_stratum["|".join(f"{n}={v}" for n, v in zip(names, combo))] = zero()
    by_factor: dict[str, dict[str, dict[str, int]]] = {
        name: {level: zero() for level in levels.get(name, [])} for name in factor_names
    }

    credit = 0.0
    stratum_counts: dict[str, dict[str, int]] = {}
    # minimization: stratum -> factor -> level -> arm counts, kept up to date as we go
    level_counts: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    for other, arm, position in earlier:
        who = f"subject #{position}"
        stratum = _stratum(spec, other, who)
        counts[arm] += 1
        if spec.strata_factors:
            by_stratum.setdefault(stratum, zero())[arm] += 1
        for name in factor_names:
            by_factor[name].setdefault(_level(other, name, who), zero())[arm] += 1
        if spec.algorithm == "permuted_blocks":
            running = stratum_counts.setdefault(stratum, zero())
            credit += _convergence_credit(spec, running, arm)
            running[arm] += 1
        else:
            table = level_counts.setdefault(stratum, {name: {} for name in spec.minimization_factors})
            cells = {name: table[name].setdefault(_level(other, name, who), zero()) for name in table}
            best = _best_arms(minimization_totals(spec, cells))
            credit += (1.0 / len(best)) if arm in best else 0.0
            for cell in cells.values():
                cell[arm] += 1

    n = len(earlier)
    stratum_imbalances = [marginal_imbalance(c, ratio) for c in by_stratum.values()]
    factor_imbalances = [marginal_imbalance(c, ratio) for lv in by_factor.values() for c in lv.values()]
    imbalance = marginal_imbalance(counts, ratio)
    is_blocks = spec.algorithm == "permuted_blocks"
    return BalanceReport(
        method="balance_report",
        algorithm=spec.algorithm,
        version=spec.version,
        arms=spec.arms,
        ratio=spec.ratio,
        n=n,
        counts=counts,
        by_stratum=by_stratum,
        by_factor=by_factor,
        imbalance=imbalance,
        max_stratum_imbalance=max(stratum_imbalances, default=0.0),
        max_factor_imbalance=max(factor_imbalances, default=0.0),
        max_imbalance=max([imbalance, *stratum_imbalances, *factor_imbalances]),
        empty_strata=tuple(sorted(s for s, c in by_stratum.items() if not any(c.values()))),
        predictability=credit / n if n else math.nan,
        predictability_method=(
            "convergence guessing (Blackwell-Hodges) within stratum"
            if is_blocks
            else "guess the arm that minimizes imbalance"
        ),
        predictability_chance=max(spec.ratio) / spec.ratio_total,
        expected_predictability=expected_guess_rate(spec) if is_blocks else None,
    )


def expected_guess_rate(spec: RandomizationSpec) -> float:
    """Expected hit rate of the convergence guesser on a permuted-block sequence.

    Exact for a sequence of complete blocks: each block's multiple ``m`` is equally likely, a
    block is a uniformly random arrangement of its slots, and since every complete block
    restores the ratio, the guesser's deficits within a block depend only on that block. The
    expected number of hits in a block is computed by recursion over the slots still to come
    [4]_, [5]_; the rate is ``sum_m E[hits | m] / sum_m size(m)``.

    For a 1:1 ratio and blocks of size ``2m`` this equals the closed form of Matts and
    Lachin [5]_, ``E[hits] = m + (2^(2m) / C(2m, m) - 1) / 2``: 0.75 for blocks of 2 and
    17/24 (about 0.708) for blocks of 4.

    Returns
    -------
    float
        Between ``predictability_chance`` and 1; larger blocks give smaller values.
    """
    if spec.algorithm != "permuted_blocks":
        raise ValueError("expected_guess_rate applies to permuted blocks only")
    return _expected_guess_rate(spec.ratio, spec.block_multiples)


@lru_cache(maxsize=256)
def _expected_guess_rate(ratio: tuple[int, ...], multiples: tuple[int, ...]) -> float:
    total_r = sum(ratio)
    hits = 0.0
    slots = 0
    for m in multiples:
        full = tuple(r * m for r in ratio)

        @lru_cache(maxsize=None)
        def expected(remaining: tuple[int, ...], full: tuple[int, ...] = full) -> float:
            left = sum(remaining)
            if left == 0:
                return 0.0
            done = [f - r for f, r in zip(full, remaining)]
            k = sum(done)
            deficits = [(k + 1) * r / total_r - d for r, d in zip(ratio, done)]
            top = max(deficits)
            guesses = [i for i, d in enumerate(deficits) if d >= top - _EPS]
            value = sum(remaining[i] / left for i in guesses) / len(guesses)
            for i, rem in enumerate(remaining):
                if rem:
                    nxt = list(remaining)
                    nxt[i] -= 1
                    value += rem / left * expected(tuple(nxt))
            return value

        hits += expected(full)
        slots += m * total_r
    return hits / slots
