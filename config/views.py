from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

Health = inline_serializer(name="Health", fields={"status": serializers.CharField()})


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=["health"], responses={200: Health, 503: Health})
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError:
            return Response({"status": "unavailable", "database": "down"}, status=503)
        return Response({"status": "ok"})


ApiIndex = inline_serializer(name="ApiIndex", fields={
    "name": serializers.CharField(), "version": serializers.CharField(), "docs": serializers.CharField(),
    "schema": serializers.CharField(), "health": serializers.CharField(),
})


class ApiIndexView(APIView):
    """Seed 004's `GET /api/v1`: what this API is and where its description lives."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=["health"], responses={200: ApiIndex})
    def get(self, request):
        return Response({"name": "Kosh", "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                         "docs": "/api/docs", "schema": "/api/schema", "health": "/health"})
