"""A simulated market day: a synthetic population posts jobs and answers offers through the real
webhooks and the real queue, on a virtual clock, and the day is measured (`dispatch simulate`).

market.py draws the population and the day's postings from a seed; population.py registers them;
people.py is how they behave; phone.py signs their webhooks; clock.py and queue.py move time and run
the queued jobs; environment.py gives the day a database and Redis of its own; day.py runs a day,
timeline.py drives it, report.py measures it and output.py prints it; command.py is
`dispatch simulate`.
"""
