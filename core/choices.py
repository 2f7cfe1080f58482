"""Enumerations that are part of the API contract (shared/docs/api.md), not program data."""

from django.db import models


class Role(models.TextChoices):
    PROGRAM_MANAGER = "program_manager", "Program manager"
    FIELD_REP = "field_rep", "Field rep"
    REVIEWER = "reviewer", "QTM reviewer"
    CUSTOMER = "customer", "Customer contact"
    PARTNER = "partner", "Partner user"


class Category(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial (Enterprise)"
    SMC_CORPORATE = "smc_corporate", "SMC Corporate"
    PUBLIC_SECTOR = "public_sector", "Public Sector"
    EDUCATION = "education", "Education"
    NON_PROFIT = "non_profit", "Non-profit"
    US_FEDERAL = "us_federal", "US Federal"
    GPP = "gpp", "GPP"
    CSP = "csp", "CSP"


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise"
    SMC_C = "smc_c", "SMC-C"
