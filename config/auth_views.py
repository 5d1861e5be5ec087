"""Token endpoints: public by necessity, throttled through the shared cache."""

from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt import views as jwt_views


class _Throttled:
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"


class TokenObtainView(_Throttled, jwt_views.TokenObtainPairView):
    pass


class TokenRefreshView(_Throttled, jwt_views.TokenRefreshView):
    pass


class TokenRevokeView(_Throttled, jwt_views.TokenBlacklistView):
    pass
