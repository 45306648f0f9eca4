"""A kiosk or browser that retries after a timeout may send the same call
again while the first is still running. Against a running `lectern up
--demo`, ten copies of one CheckOut (and then of one CheckIn) sent at the
same moment with one request id must lend (and return) the book once, and
every copy must get the first call's answer, not a refusal.

Needs LECTERN_GATEWAY (host:port) and LECTERN_ADMIN_PASSWORD; `.ci/run`
starts the suite and sets both, once on SQLite and once on PostgreSQL.
"""

import os
import threading
import uuid

from conftest import login

COPIES = 10
# Books tried, each lent and returned by ten copies of a call. CI tries 3;
# LECTERN_RETRY_TRIALS=30 repeats the measurement of issue 15.
TRIALS = int(os.environ.get("LECTERN_RETRY_TRIALS", "3"))
LOANS = "lectern.circulation.v1.LoanService"


def all_at_once(call):
    """Runs `call` on COPIES threads released together; returns the answers
    (or the errors) in order."""
    start = threading.Barrier(COPIES)
    answers = [None] * COPIES

    def one(index):
        start.wait()
        try:
            answers[index] = call()
        except Exception as error:  # the test reports what came back
            answers[index] = error

    threads = [threading.Thread(target=one, args=(index,)) for index in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def books_on_the_shelf_of(lectern, token, school_id, wanted):
    found = lectern.call(
        "lectern.catalog.v1.CatalogService",
        "SearchTitles",
        {"query": "的", "page_size": 50},
        token,
    )
    barcodes = [
        copy["barcode"]
        for hit in found.get("hits", [])
        for copy in hit.get("copies", [])
        if copy.get("availability") == "AVAILABILITY_ON_SHELF" and copy.get("school_id") == school_id
    ]
    assert len(barcodes) >= wanted, f"the demo has {wanted} books on one school's shelf: {barcodes}"
    return barcodes[:wanted]


def loans_of(lectern, token, reader_id, barcode):
    """The ids of the reader's loans of `barcode`, oldest first."""
    history = lectern.call(
        LOANS,
        "ListLoans",
        {"reader_id": reader_id, "filter": "LOAN_FILTER_ALL", "page_size": 500},
        token,
    )
    return [loan["id"] for loan in reversed(history.get("loans", [])) if loan["copy_barcode"] == barcode]


def test_copies_of_one_check_out_and_check_in_sent_at_once_act_once(lectern):
    token = login(lectern)
    # Reflection fills the descriptor pool on first use, which is not safe
    # from several threads at once: resolve LoanService before sending.
    lectern.pool.FindServiceByName(LOANS)
    reader = lectern.call(
        "lectern.reader.v1.ReaderService", "LookupReader", {"card_barcode": "R100003"}, token
    )
    for barcode in books_on_the_shelf_of(lectern, token, reader["school_id"], TRIALS):
        before = loans_of(lectern, token, reader["id"], barcode)
        lend = {
            "reader_card_barcode": reader["card_barcode"],
            "copy_barcode": barcode,
            "request_id": str(uuid.uuid4()),
        }
        answers = all_at_once(lambda: lectern.call(LOANS, "CheckOut", lend, token))
        refused = [answer for answer in answers if isinstance(answer, Exception)]
        assert not refused, f"{barcode}: copies of one check-out were refused: {refused}"
        loan_ids = {answer["loan"]["id"] for answer in answers}
        assert len(loan_ids) == 1, f"{barcode}: one loan, the same for every copy: {loan_ids}"

        give_back = {"copy_barcode": barcode, "request_id": str(uuid.uuid4())}
        answers = all_at_once(lambda: lectern.call(LOANS, "CheckIn", give_back, token))
        refused = [answer for answer in answers if isinstance(answer, Exception)]
        assert not refused, f"{barcode}: copies of one check-in were refused: {refused}"
        assert all(answer["was_on_loan"] for answer in answers), "each copy says it was on loan"
        assert {answer["loan"]["id"] for answer in answers} == loan_ids

        # Lent once and returned once: one more loan of the book in the
        # reader's history, this one.
        after = loans_of(lectern, token, reader["id"], barcode)
        assert after == before + list(loan_ids), f"{barcode}: {before} then {after}"
