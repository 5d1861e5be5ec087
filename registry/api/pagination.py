from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """Limit/offset with a ceiling: a huge ``limit`` is cut to ``max_limit`` rows.

    The ceiling bounds what one page can cost: rows fetched and serialized, and the response size
    (list items leave out the heaviest metadata; see ``registry.api.serializers``).
    """

    default_limit = 50
    max_limit = 100
