"""Prediction with a trained model, one way down: each module knows only those listed after it.

- :mod:`.stream`: files and iterables of texts in, records out in input order, a chunk at a time, in this
  process or in a :mod:`.pool` of worker processes;
- :mod:`.pool`: the worker processes;
- :mod:`.routing`: which model classifies a text (:class:`~.routing.ModelRef`, or the shipped model of
  its script, chosen once on the normalised text) and the records of a list of texts;
- :mod:`.model`: :class:`~.model.SentimentModel`, a loaded bundle: encode, probabilities, records,
  evaluate;
- :mod:`.batches`: length-sorted, padded batches.

Nothing here imports ``training``, ``explain`` or ``serve``; they import this. Submodules are not imported
here, so ``import lstm_sentiment.inference.routing`` loads only what routing needs.
"""
