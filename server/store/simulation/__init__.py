"""A realistic business day of one hall, recorded through the store node's real commands.

Used by ``bench/sync_ingest.py`` and by the tests of central's ingest. A throwaway store node
(SQLite in a temporary folder) runs a simulated day from 07:20 to 20:30 store-local time: the store
is configured and staffed, items are defined and stock received, shifts planned, the opening
checklist checked, clerks clock in and open their windows, customers take tickets all day (with a
lunch and an evening peak) and are called, served, finished, sometimes recalled, transferred, sold
something and asked for a rating; some walk out; clerks take meal breaks and hand over at the shift
change; complaints are taken in, assigned, answered, escalated now and then, resolved, reopened
when the customer is not satisfied, and closed; at closing time windows close and everyone clocks
out.

Besides the queue, the day holds the rest of a hall's records in modest amounts: a handful of
appointments (booked, checked in on time or late, cancelled, a no-show); serialised stock (phones
by IMEI, SIM cards by ICCID) received in the morning and sold by serial to device buyers and new
lines, with a return or two at the after-sales desk; a transfer out to another store and one in
from another, a write-off, two adjustments asked for by the admin (the manager approves one and
rejects the other) and a stock count of every item after closing with a small variance; a fire
inspection, a fire drill, a training session with its attendance, and two equipment faults (one
repaired at once, then reopened and repaired again).

Every step is the domain command a tablet request would run (``server.domain.*``) with its checks,
under the acting staff member's user name, at a simulated clock, so the events carry correct
envelopes (UUIDv7 ids, gapless ``seq`` from 1, HLC, store-local times) and are encoded by the log
exactly as a store node logs them. The whole day is one SQLite transaction of the node's writer
(``Writer.run_now``), each command in its own SAVEPOINT as the writer does, so a refused command (an
empty queue) records nothing.

Where things are: ``fixtures`` (the staff and their hours, the catalogue, the windows, the service
mix, the appointments), ``scheduler`` (the clock, the agenda, the arrival curve), ``hall`` (the
state of the hall and how one command runs in it), one script per domain (``store``, ``inventory``,
``shifts``, ``queue``, ``complaints``, ``ops``) and ``day`` (the order they are put on the agenda,
and ``record_day``).
"""

from server.store.simulation.day import Day, record_day

__all__ = ["Day", "record_day"]
