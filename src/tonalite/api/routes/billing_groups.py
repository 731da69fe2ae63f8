"""The caller's billing groups."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import api_router
from tonalite.api.schemas import BillingGroupResource, ItemList
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.principal import Principal


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups", "billing groups")

    @router.get("")
    def list_billing_groups(principal: Principal = Depends(authenticated)) -> ItemList[BillingGroupResource]:
        groups = services.billing_groups.list(principal)
        return ItemList(items=[BillingGroupResource.model_validate(group) for group in groups])

    return router
