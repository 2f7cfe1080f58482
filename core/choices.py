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


class LicensingChannel(models.TextChoices):
    """How a deal is licensed (R-ELIG-2): CSP is a channel, not a customer category."""

    EA = "ea", "Enterprise Agreement (EA)"
    MCA_E = "mca_e", "Microsoft Customer Agreement for Enterprise (MCA-E)"
    MPSA = "mpsa", "Microsoft Products and Services Agreement (MPSA)"
    CSP = "csp", "Cloud Solution Provider (CSP)"
    OTHER = "other", "Other"
