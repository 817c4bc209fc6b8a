"""SCM reference data and the CLM's own vocabulary, with the seed mapping tables between them.

Everything here is small and fixed: legal entities, currencies, units, payment terms, delivery
terms, procurement categories, contract types, products' building blocks, and, for each code the
CLM uses, the SCM value it maps to. The seed tables written to ``seeds/*.csv`` (and committed as
``data/seeds/*.csv``) are rendered from these constants, so the generator and the defaults users
edit can never disagree. CLM codes listed under ``UNMAPPED_*`` appear in no seed table: the
generator plants them to make mapping failures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LegalEntity:
    """One SCM legal entity and how the world populates it."""

    id: str
    name: str
    iso2: str
    iso3: str
    currency: str
    language: str
    style: str  # vendor naming style, see words.py
    share: float  # share of the world's vendors
    street: str
    city: str
    zip: str
    vat: str
    foreign: tuple[str, ...]  # countries of its foreign vendors (ISO2)


# fmt: off
LEGAL_ENTITIES: tuple[LegalEntity, ...] = (
    LegalEntity("usmf", "Contoso Manufacturing USA", "US", "USA", "USD", "en-US", "en", 0.30,
                "123 Coffee Street, Suite 300", "Redmond", "98052", "US-91-1144442", ("CA", "MX")),
    LegalEntity("demf", "Contoso Fertigung Deutschland GmbH", "DE", "DEU", "EUR", "de", "de", 0.25,
                "Walter-Gropius-Straße 5", "München", "80807", "DE811146839", ("AT", "CH", "NL")),
    LegalEntity("gbsi", "Contoso Services UK Ltd", "GB", "GBR", "GBP", "en-GB", "gb", 0.20,
                "100 Victoria Street", "London", "SW1E 5JL", "GB123456782", ("IE", "FR")),
    LegalEntity("jpmf", "コントソ製造株式会社", "JP", "JPN", "JPY", "ja", "jp", 0.15,
                "港南2-16-3", "港区", "108-0075", "T1010401089234", ("US", "SG")),
    LegalEntity("cnmf", "康托索制造（上海）有限公司", "CN", "CHN", "CNY", "zh-Hans", "cn", 0.10,
                "世纪大道100号", "上海市", "200120", "91310000MA1FL8XQ30", ("SG",)),
)

# (code, name, symbol, rounding, units of it per US dollar)
CURRENCIES = (
    ("USD", "US Dollar", "$", "0.01", 1.0), ("EUR", "Euro", "€", "0.01", 0.92),
    ("GBP", "Pound Sterling", "£", "0.01", 0.79), ("JPY", "Japanese Yen", "¥", "1", 150.0),
    ("CNY", "Chinese Yuan Renminbi", "¥", "0.01", 7.2), ("CAD", "Canadian Dollar", "$", "0.01",
    1.36),
    ("MXN", "Mexican Peso", "$", "0.01", 17.0), ("CHF", "Swiss Franc", "CHF", "0.05", 0.88),
    ("SGD", "Singapore Dollar", "S$", "0.01", 1.34), ("SEK", "Swedish Krona", "kr", "0.01", 10.5),
    ("DKK", "Danish Krone", "kr", "0.01", 6.9), ("KRW", "South Korean Won", "₩", "1", 1330.0),
)
# Local currency of each vendor country.
COUNTRY_CURRENCY = {
    "US": "USD", "DE": "EUR", "GB": "GBP", "JP": "JPY", "CN": "CNY", "CA": "CAD", "MX": "MXN",
    "AT": "EUR", "CH": "CHF", "FR": "EUR", "NL": "EUR", "IE": "EUR", "SG": "SGD",
}
COUNTRIES = (  # (ISO2, ISO3)
    ("US", "USA"), ("DE", "DEU"), ("GB", "GBR"), ("JP", "JPN"), ("CN", "CHN"), ("CA", "CAN"),
    ("MX", "MEX"), ("AT", "AUT"), ("CH", "CHE"), ("FR", "FRA"), ("NL", "NLD"), ("IE", "IRL"),
    ("SG", "SGP"), ("IT", "ITA"), ("ES", "ESP"), ("KR", "KOR"), ("IN", "IND"), ("SE", "SWE"),
    ("BE", "BEL"), ("PL", "POL"),
)
COUNTRY_ALIASES = (("UK", "GBR"),)

# (symbol, description, class, decimals, system, is base)
UNITS = (
    ("ea", "Each", "Quantity", 0, "None", "Yes"), ("pcs", "Pieces", "Quantity", 0, "None", "No"),
    ("box", "Box", "Quantity", 0, "None", "No"), ("set", "Set", "Quantity", 0, "None", "No"),
    ("pack", "Pack", "Quantity", 0, "None", "No"), ("pr", "Pair", "Quantity", 0, "None", "No"),
    ("dz", "Dozen", "Quantity", 0, "None", "No"), ("kg", "Kilogram", "Mass", 3, "Metric", "Yes"),
    ("g", "Gram", "Mass", 2, "Metric", "No"), ("t", "Metric ton", "Mass", 3, "Metric", "No"),
    ("lb", "Pound", "Mass", 2, "USCustomary", "No"), ("l", "Liter", "Volume", 2, "Metric", "Yes"),
    ("ml", "Milliliter", "Volume", 0, "Metric", "No"),
    ("gal", "Gallon", "Volume", 2, "USCustomary", "No"), ("m", "Meter", "Length", 2, "Metric",
    "Yes"),
    ("cm", "Centimeter", "Length", 1, "Metric", "No"), ("mm", "Millimeter", "Length", 0, "Metric",
    "No"),
    ("ft", "Foot", "Length", 2, "USCustomary", "No"),
    ("m2", "Square meter", "Area", 2, "Metric", "Yes"), ("h", "Hour", "Time", 2, "None", "Yes"),
    ("d", "Day", "Time", 1, "None", "No"),
)
# CLM unit name → SCM unit, preferred (the name used when SCM's unit is sent to the CLM).
CLM_UNITS = (
    ("Each", "ea", True), ("EA", "ea", False), ("Piece", "pcs", False), ("Pieces", "pcs", True),
    ("Pcs", "pcs", False), ("Box", "box", True), ("Set", "set", True), ("Pack", "pack", True),
    ("Pair", "pr", True), ("Dozen", "dz", True), ("Kilogram", "kg", True), ("KG", "kg", False),
    ("Kilo", "kg", False), ("Gram", "g", True), ("Metric ton", "t", True), ("Tonne", "t", False),
    ("Pound", "lb", True), ("Litre", "l", True), ("Liter", "l", False),
    ("Millilitre", "ml", True), ("Gallon", "gal", True), ("Metre", "m", True),
    ("Meter", "m", False), ("Centimetre", "cm", True), ("Millimetre", "mm", True),
    ("Foot", "ft", True), ("Square metre", "m2", True), ("Hour", "h", True), ("Hours", "h", False),
    ("Day", "d", True),
)
UNMAPPED_UNITS = ("Pallet", "Bundle", "Carton", "Drum", "Reel")

# (name, description, method, days, months, is default, is cash, weight among vendors)
PAYMENT_TERMS = (
    ("Net10", "Net 10 days", "Net", 10, 0, "No", "No", 5),
    ("Net30", "Net 30 days", "Net", 30, 0, "Yes", "No", 40),
    ("Net45", "Net 45 days", "Net", 45, 0, "No", "No", 10),
    ("Net60", "Net 60 days", "Net", 60, 0, "No", "No", 15),
    ("Net90", "Net 90 days", "Net", 90, 0, "No", "No", 5),
    ("COD", "Cash on delivery", "COD", 0, 0, "No", "Yes", 5),
    ("EOM30", "End of month plus 30 days", "CurrentMonth", 30, 0, "No", "No", 10),
    ("2%10N30", "2% discount within 10 days, net 30 days", "Net", 30, 0, "No", "No", 10),
)
CLM_PAYMENT_TERMS = (
    ("Net 10 days", "Net10", True), ("Net 30 days", "Net30", True), ("30 days net", "Net30", False),
    ("Net 30", "Net30", False), ("Net 45 days", "Net45", True), ("Net 60 days", "Net60", True),
    ("60 days net", "Net60", False), ("Net 90 days", "Net90", True),
    ("Cash on delivery", "COD", True), ("C.O.D.", "COD", False),
    ("End of month + 30", "EOM30", True), ("30 days end of month", "EOM30", False),
    ("2% 10, Net 30", "2%10N30", True),
)
UNMAPPED_PAYMENT_TERMS = (
    "Net 120 days", "Net 75 days", "Payment in advance", "Letter of credit",
    "50% upfront, 50% on delivery",
)
CLM_CURRENCY_ALIASES = (
    ("EURO", "EUR"), ("RMB", "CNY"), ("YEN", "JPY"), ("US$", "USD"), ("STG", "GBP"), ("SFR", "CHF"),
)
UNMAPPED_CURRENCIES = ("EUD", "CNH", "GBX", "DOLLAR", "XEU")

DELIVERY_TERMS = (
    ("EXW", "Ex works"), ("FCA", "Free carrier"), ("FOB", "Free on board"),
    ("CIF", "Cost, insurance and freight"), ("CPT", "Carriage paid to"),
    ("DAP", "Delivered at place"), ("DDP", "Delivered duty paid"),
)

# SCM contract type, description; the CLM's names for each.
CONTRACT_TYPES = (
    ("PURCH", "Purchase agreement"), ("NDA", "Non-disclosure agreement"),
    ("MSA", "Master services agreement"), ("SOW", "Statement of work"),
    ("SLA", "Service level agreement"), ("FRAME", "Framework agreement"),
)
CLM_CONTRACT_TYPES = (
    ("Purchase Agreement", "PURCH"), ("Purchasing Agreement", "PURCH"),
    ("Non-Disclosure Agreement", "NDA"), ("NDA", "NDA"), ("Mutual NDA", "NDA"),
    ("Master Services Agreement", "MSA"), ("MSA", "MSA"), ("Statement of Work", "SOW"),
    ("Service Level Agreement", "SLA"), ("Framework Agreement", "FRAME"),
)
UNMAPPED_CONTRACT_TYPES = (
    "Consignment Agreement", "Licence Agreement", "Reseller Agreement", "Loan Agreement",
)
CLM_CONTRACT_STATUSES = (
    ("Draft", "Draft"), ("In Review", "WaitingForReview"), ("Reviewed", "Reviewed"),
    ("Pending Approval", "WaitingForApproval"), ("Approved", "Approved"), ("Rejected", "Rejected"),
    ("Out for Signature", "WaitingForSignatures"),
    ("Awaiting Counterparty Signature", "WaitingForExternalSignatures"),
    ("Awaiting Internal Signature", "WaitingForInternalSignatures"), ("Executed", "Executed"),
    ("Active", "Executed"), ("On Hold", "OnHold"), ("Terminated", "Terminated"),
    ("Expired", "Expired"), ("Cancelled", "Cancelled"), ("Canceled", "Cancelled"),
)
CLM_AGREEMENT_STATUSES = (
    ("Active", "Effective"), ("In Effect", "Effective"), ("On Hold", "OnHold"),
    ("Suspended", "OnHold"), ("Closed", "Closed"), ("Expired", "Closed"), ("Terminated", "Closed"),
)
CLOSING_CONTRACT_STATUSES = ("Terminated", "Expired", "Cancelled")
CLOSING_AGREEMENT_STATUSES = ("Closed",)
BUSINESS_UNITS = (
    ("NA-US-MFG", "usmf"), ("NA-US-SVC", "usmf"), ("EU-DE-MFG", "demf"), ("EU-GB-SVC", "gbsi"),
    ("APAC-JP-MFG", "jpmf"), ("APAC-CN-MFG", "cnmf"),
)

# (name, code, description, parent)
CATEGORIES = (
    ("Procurement", "ROOT", "All procurement categories", ""),
    ("Direct materials", "DM", "Materials that go into products", "Procurement"),
    ("Indirect materials", "IM", "Materials for running the business", "Procurement"),
    ("Services", "SV", "Bought-in services", "Procurement"),
    ("Logistics", "LG", "Transport and storage", "Procurement"),
    ("Metals", "DM-MET", "Sheet, bar, tube and castings", "Direct materials"),
    ("Plastics & polymers", "DM-PLA", "Granulate, film, moulded parts", "Direct materials"),
    ("Electronic components", "DM-ELC", "Boards, sensors, connectors", "Direct materials"),
    ("Fasteners", "DM-FAS", "Bolts, nuts, washers, rivets", "Direct materials"),
    ("Chemicals", "DM-CHE", "Process chemicals, adhesives, coatings", "Direct materials"),
    ("Packaging", "DM-PAC", "Cartons, pallets, wrap, labels", "Direct materials"),
    ("MRO supplies", "IM-MRO", "Maintenance, repair and operations", "Indirect materials"),
    ("Safety equipment", "IM-SAF", "Personal protective equipment", "Indirect materials"),
    ("Tools", "IM-TOO", "Hand and power tools", "Indirect materials"),
    ("Office supplies", "IM-OFF", "Paper, toner, furniture", "Indirect materials"),
    ("Professional services", "SV-PRO", "Consulting, legal, audit", "Services"),
    ("Engineering services", "SV-ENG", "Design and engineering", "Services"),
    ("Facility services", "SV-FAC", "Cleaning, security, catering", "Services"),
    ("Freight", "LG-FRT", "Road, sea and air freight", "Logistics"),
    ("Warehousing", "LG-WHS", "Third-party storage", "Logistics"),
)
# Product building blocks: (object, category, unit, base price in USD)
PRODUCT_OBJECTS = (
    ("Hex bolt", "Fasteners", "ea", 0.35), ("Washer", "Fasteners", "box", 4.2),
    ("Lock nut", "Fasteners", "pcs", 0.12), ("Rivet", "Fasteners", "box", 9.5),
    ("Ball bearing", "Metals", "ea", 6.8), ("Sheet", "Metals", "kg", 3.1),
    ("Round bar", "Metals", "m", 12.4), ("Tube", "Metals", "m", 8.75),
    ("Gasket", "Plastics & polymers", "ea", 1.15), ("Granulate", "Plastics & polymers", "kg", 2.05),
    ("Film", "Plastics & polymers", "m2", 0.48), ("Sensor", "Electronic components", "ea", 24.9),
    ("Relay", "Electronic components", "ea", 3.6), ("Connector", "Electronic components", "pcs",
    0.85),
    ("Cable", "Electronic components", "m", 1.9), ("Adhesive", "Chemicals", "l", 14.5),
    ("Coating", "Chemicals", "l", 22.0), ("Solvent", "Chemicals", "gal", 31.0),
    ("Carton box", "Packaging", "pack", 18.0), ("Stretch wrap", "Packaging", "pack", 26.5),
    ("Pallet label", "Packaging", "box", 7.25), ("Safety gloves", "Safety equipment", "pr", 3.4),
    ("Safety glasses", "Safety equipment", "ea", 5.9), ("Drill bit", "Tools", "set", 19.99),
    ("Torque wrench", "Tools", "ea", 89.0), ("Filter cartridge", "MRO supplies", "ea", 12.3),
    ("Lubricant", "MRO supplies", "l", 9.8), ("Copy paper", "Office supplies", "box", 29.0),
    ("Maintenance labour", "Facility services", "h", 65.0),
    ("Engineering support", "Engineering services", "h", 120.0),
    ("Consulting", "Professional services", "d", 950.0), ("Road freight", "Freight", "ea", 420.0),
    ("Pallet storage", "Warehousing", "d", 1.5), ("Rubber seal", "MRO supplies", "dz", 11.0),
    ("Steel plate", "Metals", "t", 880.0), ("Copper wire", "Metals", "lb", 4.6),
)
PRODUCT_MATERIALS = (
    "Stainless", "Galvanized", "Brass", "Aluminium", "Nylon", "Carbon steel", "Copper", "PVC",
    "Polyethylene", "Titanium", "Standard", "Heavy-duty", "Premium", "Eco", "Industrial",
)
PRODUCT_SPECS = (
    "M8x40", "M10x60", "DN50", "2 mm", "10 m", "24 V", "Size L", "500 ml", "5 kg", "Type A",
    "Grade 304", "1/2\"", "3/4\" NPT", "IP67", "Class 8.8", "Ø 25 mm", "ISO 9001", "Rev. B",
)
AGREEMENT_CLASSIFICATIONS = ("Blanket", "Pricing", "Volume discount", "Framework")
# Buyers per legal entity: first and last name (their emails derive from them).
BUYERS = {
    "usmf": (("Alicia", "Thomas"), ("Brian", "Coleman"), ("Charlie", "Carson"), ("Dana", "Birk"),
             ("Evan", "Miller"), ("Fiona", "Garcia")),
    "demf": (("Jürgen", "Weiß"), ("Katrin", "Böhm"), ("Stefan", "Krüger"), ("Petra", "Schulz")),
    "gbsi": (("Oliver", "Hughes"), ("Amelia", "O'Connor"), ("Harry", "Patel"), ("Isla", "Evans")),
    "jpmf": (("健", "佐藤"), ("美咲", "鈴木"), ("直樹", "高橋")),
    "cnmf": (("伟", "王"), ("芳", "李"), ("磊", "张")),
}
# fmt: on

LE_BY_ID = {le.id: le for le in LEGAL_ENTITIES}
ISO3 = dict(COUNTRIES)
