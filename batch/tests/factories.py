import uuid

import factory

from batch.models import BatchInput, BatchJob


class BatchInputFactory(factory.django.DjangoModelFactory):
    """A planned input row; its file is not written (tests that read it upload a real one)."""

    class Meta:
        model = BatchInput

    format = "csv"
    storage_key = factory.LazyFunction(lambda: f"batch/inputs/{uuid.uuid4()}/{uuid.uuid4().hex}.csv")
    original_filename = "input.csv"
    sha256 = "0" * 64
    size_bytes = 100
    columns = factory.LazyFunction(lambda: ["id", "a", "b", "c", "d"])
    rows_total = 2
    plan = factory.LazyFunction(lambda: [[0, 2, 10, 100]])


class BatchJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatchJob

    team = factory.LazyAttribute(lambda job: job.model.team)
    input = factory.SubFactory(BatchInputFactory, team=factory.SelfAttribute("..team"))
    feature_columns = factory.LazyFunction(lambda: ["a", "b", "c", "d"])
    rows_total = 2
