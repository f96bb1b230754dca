"""Seed 003's bot paths under `/api/bot/`, included first by config.urls: Django tries URL
patterns one by one, and the bot's deduction is the hottest path there is."""

from django.urls import path

from credits import views

urlpatterns = [
    path("credits/<str:phone_number>", views.BotCreditsView.as_view(), name="bot-credits"),
    path("deduct", views.BotDeductView.as_view(), name="bot-deduct"),
]
