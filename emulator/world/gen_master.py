"""Reference data and products: the small SCM tables, the code lists, released products.

Products are shared (``I<6 digits>``); each is released in a random non-empty subset of the legal
entities (about 60% of them), so agreement lines can pick a product released in their legal entity
and ``product_not_released`` lines one that is not.
"""

from __future__ import annotations

from emulator.world import places
from emulator.world import reference as ref
from emulator.world.context import OUT, SEEDS, Ctx
from emulator.world.sqlkit import lst, q, values_table

SERVICE_CATEGORIES = (
    "Facility services", "Engineering services", "Professional services", "Freight", "Warehousing",
)  # fmt: skip


def product_count(size: int) -> int:
    return max(60, size // 5)


def site_count(size: int) -> int:
    return 2 + min(6, size // 20000)


def build_lookup_tables(ctx: Ctx) -> None:
    """Work tables of legal entities, countries, currencies, cities, streets and CLM codes."""
    acc, rows = 0.0, []
    for i, le in enumerate(ref.LEGAL_ENTITIES):
        rows.append((i, le.id, le.iso2, le.iso3, le.currency, le.language, le.style, acc))
        acc += le.share
    cols = ("le_i", "le", "iso2", "iso3", "currency", "language", "style", "lo")
    ctx.table("w_le", "SELECT * FROM " + values_table(cols, rows))
    ctx.run(
        "ALTER TABLE w_le ADD COLUMN foreign_countries VARCHAR[];"
        + "".join(
            f"UPDATE w_le SET foreign_countries = {lst(le.foreign)} WHERE le = {q(le.id)};"
            for le in ref.LEGAL_ENTITIES
        )
    )
    ctx.table(
        "w_country",
        "SELECT * FROM "
        + values_table(
            ("iso2", "iso3", "currency"),
            [(c2, ref.ISO3[c2], cur) for c2, cur in ref.COUNTRY_CURRENCY.items()],
        ),
    )
    ctx.table(
        "w_currency",
        "SELECT * FROM "
        + values_table(
            ("code", "factor", "decimals"),
            [(c, f, 0 if r == "1" else 2) for c, _n, _s, r, f in ref.CURRENCIES],
        ),
    )
    city_rows = [
        (cc, i, city, state, pattern, len(cities))
        for cc, cities in places.CITIES.items()
        for i, (city, state, pattern) in enumerate(cities)
    ]
    ctx.table(
        "w_city",
        "SELECT * FROM "
        + values_table(("country", "idx", "city", "state", "pattern", "n"), city_rows),
    )
    ctx.table(
        "w_city_d",
        """SELECT country, city, row_number() OVER (PARTITION BY country ORDER BY city) - 1 AS idx,
                  count(*) OVER (PARTITION BY country) AS n
           FROM (SELECT DISTINCT country, city FROM w_city)""",
    )
    street_rows = [
        (grp, i, street, len(streets))
        for grp, streets in places.STREETS.items()
        for i, street in enumerate(streets)
    ]
    ctx.table(
        "w_street", "SELECT * FROM " + values_table(("grp", "idx", "street", "n"), street_rows)
    )
    # CLM codes for each SCM value, preferred code first: the generator picks the preferred code
    # most of the time and an alias otherwise, both of which the seed tables map back.
    domains = {
        "pt": ("clm_payment_terms", "clm_payment_terms", "scm_payment_terms", "preferred"),
        "unit": ("clm_units", "clm_unit", "scm_unit", "preferred"),
        "cur": ("clm_currencies", "clm_currency", "scm_currency", "preferred"),
        "country": ("clm_countries", "clm_country", "scm_country", "preferred"),
        "ctype": ("clm_contract_types", "clm_contract_type", "scm_contract_type", "NULL"),
        "cstatus": ("clm_contract_statuses", "clm_status", "scm_status", "NULL"),
        "astatus": ("clm_agreement_statuses", "clm_status", "scm_status", "NULL"),
    }
    selects = [
        f"SELECT {q(d)} AS domain, {scm} AS scm, "
        f"list({clm} ORDER BY coalesce({pref}, 'false') DESC, {clm}) AS codes "
        f"FROM {SEEDS}.seed_{table} GROUP BY {scm}"
        for d, (table, clm, scm, pref) in domains.items()
    ]
    ctx.table("w_code", " UNION ALL ".join(selects))


def build_reference(ctx: Ctx) -> None:
    """The SCM reference entities: legal entities to contract types."""
    le_rows = [
        (
            le.id, le.name, le.name.split(" ")[0] + " " + le.iso2, le.street, le.city, le.zip,
            le.iso3, le.iso2, le.language, le.vat, le.currency,
        )
        for le in ref.LEGAL_ENTITIES
    ]  # fmt: skip
    cols = ("id", "name", "alias", "street", "city", "zip", "iso3", "iso2", "lang", "vat", "cur")
    ctx.scm(
        "LegalEntities",
        {
            "LegalEntityId": "id", "Name": "name", "NameAlias": "alias", "AddressStreet": "street",
            "AddressCity": "city", "AddressZipCode": "zip", "AddressCountryRegionId": "iso3",
            "AddressCountryRegionISOCode": "iso2", "LanguageId": "lang", "VATNum": "vat",
            "AccountingCurrency": "cur",
        },
        values_table(cols, le_rows),
    )  # fmt: skip
    ctx.scm(
        "Currencies",
        {"CurrencyCode": "c", "Name": "n", "Symbol": "s", "GeneralRoundingRule": "r"},
        values_table(("c", "n", "s", "r"), [c[:4] for c in ref.CURRENCIES]),
    )
    ctx.scm(
        "UnitsOfMeasure",
        {
            "UnitSymbol": "s", "UnitDescription": "d", "UnitClass": "c", "DecimalPrecision": "p",
            "SystemOfUnits": "y", "IsBaseUnit": "b",
        },
        values_table(("s", "d", "c", "p", "y", "b"), ref.UNITS),
    )  # fmt: skip
    pt = values_table(("n", "d", "m", "days", "months", "dflt", "cash", "w"), ref.PAYMENT_TERMS)
    ctx.scm(
        "PaymentTerms",
        {
            "dataAreaId": "le", "Name": "n", "Description": "d", "PaymentMethodType": "m",
            "NumberOfDays": "days", "NumberOfMonths": "months", "IsDefaultPaymentTerm": "dflt",
            "IsCashPayment": "cash",
        },
        f"w_le CROSS JOIN {pt} ORDER BY le, n",
    )  # fmt: skip
    dt = values_table(("code", "descr"), ref.DELIVERY_TERMS)
    ctx.scm(
        "DeliveryTerms",
        {"dataAreaId": "le", "TermsCode": "code", "TermsDescription": "descr"},
        f"w_le CROSS JOIN {dt} ORDER BY le, code",
    )
    n_sites = site_count(ctx.size)
    city = {le.id: le.city for le in ref.LEGAL_ENTITIES}
    ctx.table(
        "w_site",
        f"""SELECT le, le_i, iso2 || '-S' || lpad(CAST(s + 1 AS VARCHAR), 2, '0') AS site,
                   {lst([city[le.id] for le in ref.LEGAL_ENTITIES])}[le_i + 1] AS city, s
            FROM w_le CROSS JOIN range({n_sites}) r(s)""",
    )
    ctx.scm(
        "OperationalSitesV2",
        {"dataAreaId": "le", "SiteId": "site", "SiteName": "city || ' site ' || (s + 1)"},
        "w_site ORDER BY le, site",
    )
    ctx.table(
        "w_warehouse",
        """SELECT le, site, replace(site, '-S', '-W') || CAST(w + 1 AS VARCHAR) AS wh, w,
                  city FROM w_site CROSS JOIN range(2) r(w)""",
    )
    ctx.scm(
        "Warehouses",
        {
            "dataAreaId": "le",
            "WarehouseId": "wh",
            "WarehouseName": "city || CASE w WHEN 0 THEN ' main warehouse' "
            "ELSE ' spare parts warehouse' END",
            "OperationalSiteId": "site",
        },
        "w_warehouse ORDER BY le, wh",
    )
    ctx.scm(
        "ProcurementProductCategories",
        {"CategoryName": "n", "CategoryCode": "c", "CategoryDescription": "d",
         "ParentCategoryName": "p"},
        values_table(("n", "c", "d", "p"), ref.CATEGORIES),
    )  # fmt: skip
    ctx.scm(
        "CLMIntegrationContractTypes",
        {"ContractType": "t", "Description": "d"},
        values_table(("t", "d"), ref.CONTRACT_TYPES),
    )


def build_products(ctx: Ctx) -> None:
    """Products, their releases per legal entity, and the lists lines pick products from."""
    r = ctx.rnd
    objs = ref.PRODUCT_OBJECTS
    obj_i = r.i("pobj", len(objs), "pid")
    services = lst(SERVICE_CATEGORIES)
    ctx.table(
        "w_product",
        f"""
        SELECT pid, 'I' || lpad(CAST(pid + 1 AS VARCHAR), 6, '0') AS item, category, unit,
          CASE WHEN list_contains({services}, category) THEN 'Service' ELSE 'Item' END AS ptype,
          CASE WHEN list_contains({services}, category)
               THEN obj || ' tier ' || CAST(1 + pid % 3 AS VARCHAR)
               ELSE {r.pick(ref.PRODUCT_MATERIALS, "pmat", "pid")} || ' ' || lower(obj) || ' '
                    || {r.pick(ref.PRODUCT_SPECS, "pspec", "pid")} END AS name,
          round(base * (0.7 + 0.8 * {r.u("pprice", "pid")}), 4) AS base_usd
        FROM (
          SELECT pid, {lst([o[0] for o in objs])}[oi + 1] AS obj,
                 {lst([o[1] for o in objs])}[oi + 1] AS category,
                 {lst([o[2] for o in objs])}[oi + 1] AS unit,
                 {lst([o[3] for o in objs])}[oi + 1] AS base
          FROM (SELECT pid, {obj_i} AS oi FROM range({product_count(ctx.size)}) t(pid))
        )""",
    )
    ctx.table(
        "w_rel_all",
        f"""SELECT p.*, l.le, l.le_i, l.currency,
                   ({r.u("rel", "pid", "le_i")} < 0.6 OR l.le_i = {r.i("relf", 5, "pid")})
                   AS released
            FROM w_product p CROSS JOIN w_le l""",
    )
    for table, flag in (("w_release", ""), ("w_unreleased", "NOT ")):
        ctx.table(
            table,
            f"""SELECT *, row_number() OVER (PARTITION BY le ORDER BY pid) - 1 AS idx,
                       count(*) OVER (PARTITION BY le) AS n
                FROM w_rel_all WHERE {flag}released""",
        )
    ctx.scm(
        "CLMIntegrationReleasedProducts",
        {
            "dataAreaId": "r.le", "ItemNumber": "item", "ProductNumber": "item",
            "ProductName": "name", "ProductSearchName": "upper(left(name, 20))",
            "ProductType": "ptype", "PurchaseUnitSymbol": "unit", "InventoryUnitSymbol": "unit",
            "ProcurementProductCategoryName": "category",
            "PurchasePrice": "round(base_usd * c.factor, c.decimals)",
            "IsPurchaseStopped": "'No'",
        },
        "w_release r JOIN w_currency c ON c.code = r.currency ORDER BY r.le, item",
    )  # fmt: skip


def build_all(ctx: Ctx) -> None:
    ctx.run(f"CREATE SCHEMA IF NOT EXISTS {OUT}")
    build_lookup_tables(ctx)
    build_reference(ctx)
    build_products(ctx)
