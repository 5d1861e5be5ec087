from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """Limit/offset with a ceiling: a huge ``limit`` must not reach the database as an overflowing integer."""

    default_limit = 50
    max_limit = 500
