"""Seed 002's checkout endpoints: POST /api/subscriptions/create-with-payment and
POST /api/subscriptions/verify-payment (served by payments, which sits above subscriptions)."""
