"""Cross-store quantities: the ledger never lets the stores offer more than the PO ATP."""

from hypothesis import given
from hypothesis import strategies as st

from shopsync.preorder.quantities import Move, StoreQuantity, plan_moves, split


def test_split_is_exact_and_follows_weights():
    assert split(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split(10, {"a": 3, "b": 1}) == {"a": 8, "b": 2}
    assert split(0, {"a": 1}) == {"a": 0}
    assert split(5, {}) == {}


def test_first_listing_splits_the_atp_equally():
    stores = {s: StoreQuantity(available=0, granted=0) for s in ("us", "eu", "uk")}
    lowerings, raisings = plan_moves(100, stores)
    assert lowerings == []
    assert sorted((m.shop_id, m.to) for m in raisings) == [("eu", 34), ("uk", 33), ("us", 33)]  # ties: store id


def test_a_new_store_gets_stock_only_after_the_donor_was_lowered():
    # Given: the parent alone was listed with all 90 units; a child store is now linked
    stores = {"us": StoreQuantity(available=90, granted=90), "eu": StoreQuantity(available=0, granted=0)}
    lowerings, raisings = plan_moves(90, stores)
    assert lowerings == [Move("us", 90, 45)]
    assert raisings == [Move("eu", 0, 45)]


def test_stock_follows_demand_to_the_store_that_sells():
    # Given: us sold its 34, eu and uk sold nothing
    stores = {
        "us": StoreQuantity(available=0, granted=34),
        "eu": StoreQuantity(available=33, granted=33),
        "uk": StoreQuantity(available=33, granted=33),
    }
    lowerings, raisings = plan_moves(100, stores)
    moved = {m.shop_id: m.to for m in lowerings + raisings}
    assert moved["us"] > 33, "the store that sells gets most of what is left"
    assert sum(m.to for m in lowerings) + sum(m.to for m in raisings) <= 66


def test_imported_sales_still_count_as_demand_but_not_twice_as_stock():
    # Given: us sold its 34 and the orders were imported: the PO ATP is 66, us holds 34 out of its grant
    stores = {
        "us": StoreQuantity(available=0, granted=0, held=34),
        "eu": StoreQuantity(available=33, granted=33),
        "uk": StoreQuantity(available=33, granted=33),
    }
    lowerings, raisings = plan_moves(66, stores)
    moved = {m.shop_id: m.to for m in lowerings + raisings}
    assert moved["us"] > 33, "the store that sold still gets most of what is left"
    assert sum(moved.values()) == 66, "all 66 left are offered: the imported sales are not subtracted again"


def test_sold_out_atp_lowers_everything_to_zero():
    stores = {"us": StoreQuantity(available=5, granted=5), "eu": StoreQuantity(available=5, granted=5)}
    lowerings, raisings = plan_moves(0, stores)
    assert {m.shop_id: m.to for m in lowerings} == {"us": 0, "eu": 0} and raisings == []


store_states = st.dictionaries(
    st.sampled_from(["us", "eu", "uk", "ca"]),
    st.tuples(st.integers(0, 60), st.integers(0, 60), st.floats(0.1, 5)),
    min_size=1,
)


@given(po_atp=st.integers(0, 150), states=store_states)
def test_offered_never_exceeds_what_is_left_at_any_step(po_atp, states):
    stores = {shop: StoreQuantity(available=min(a, g), granted=g, weight=w) for shop, (a, g, w) in states.items()}
    if sum(s.granted for s in stores.values()) > po_atp:
        return  # the ledger invariant is an input here; the planner must preserve it, not repair a broken one
    lowerings, raisings = plan_moves(po_atp, stores)
    granted = {shop: s.granted for shop, s in stores.items()}
    for move in lowerings:  # lowered first, each one on its own
        assert move.delta < 0
        granted[move.shop_id] += move.delta
        assert sum(granted.values()) <= po_atp
    for move in raisings:
        assert move.delta > 0
        granted[move.shop_id] += move.delta
        assert sum(granted.values()) <= po_atp
