"""Seed 002's subscriptions (products telephony and platform): checkout state, reads, staff and
owner actions, usage with overage (DESIGN §4.3). Token plans keep their own API in
`subscriptions.services`; payments fulfils checkout orders through `services.subscription_checkout_paid`.
"""
