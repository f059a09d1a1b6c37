"""A simulated market day: a synthetic population posts jobs and answers offers through the real
webhooks and the real queue, on a virtual clock, and the day is measured (`dispatch simulate`); the
next morning both sides of the placements that ended answer their follow-ups (回访).

market.py draws the population and the day's postings from a seed; population.py registers them;
people.py is how they behave, aftercare.py how they behave after the job; phone.py signs their
webhooks; clock.py and queue.py move time and run the queued jobs; environment.py gives the day a
database and Redis of its own; day.py runs a day and its next morning, timeline.py drives it and
morning.py the people's follow-up answers, report.py and followups.py measure it and output.py
prints it; command.py is `dispatch simulate`. days.py runs days in a row on one database (`--days N`),
run_report.py measures them; behaviour.py reads how the population behaves (`--behaviour FILE`).
"""
