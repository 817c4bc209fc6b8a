"""Word lists the generator builds vendor names from, one set per naming style.

A vendor name is ``A B C`` (three word slots) plus an optional filler and a legal form. The core
``A B C`` is chosen through a bijection of the vendor's index within its legal entity, so cores are
unique per legal entity by construction; the filler and the legal form never take part in that
uniqueness, which is what lets a fuzzy matcher recover a counterparty whose name differs from its
vendor's only in the legal form, punctuation, one typo, the filler or word order. The three slots
of a style hold disjoint words (a word-order variant can then never equal another vendor's name).

Styles: ``en`` (usmf), ``de`` (demf), ``gb`` (gbsi), ``jp`` (jpmf), ``cn`` (cnmf). German names
join slots B and C into one compound word; Japanese and Chinese names are written without spaces.
"""

from __future__ import annotations

# fmt: off
EN_A = (
    "Abbott", "Ashford", "Atwood", "Barrett", "Beaumont", "Bellamy", "Blackwood", "Bradley",
    "Brennan", "Calloway", "Carver", "Chandler", "Coleman", "Crawford", "Dalton", "Davenport",
    "Dempsey", "Donovan", "Drummond", "Ellison", "Fairbanks", "Fenwick", "Fletcher", "Garrison",
    "Gilmore", "Grayson", "Hadley", "Halloran", "Hartwell", "Hawthorne", "Holloway", "Huxley",
    "Ingram", "Jarvis", "Kendall", "Kingsley", "Langford", "Lockhart", "Lowell", "Maddox",
    "Mercer", "Merritt", "Montgomery", "Nolan", "Norcross", "O'Brien", "O'Connell", "O'Hara",
    "D'Angelo", "Osborne", "Pemberton", "Prescott", "Quinlan", "Radcliffe", "Ramsey", "Redmond",
    "Rutherford", "Sinclair", "Stafford", "Sterling", "Sullivan", "Thornton", "Townsend",
    "Underwood", "Vance", "Wakefield", "Whitaker", "Winslow", "Yardley", "Lefèvre", "Núñez",
    "Peña", "Côté", "Gagné", "Béland", "Bayview", "Brookfield", "Clearwater", "Eastgate",
    "Fairview", "Glenwood", "Harborview", "Highland", "Lakeside", "Maplewood", "Northfield",
    "Oakmont", "Pinecrest", "Redwood", "Riverside", "Silverlake", "Springdale", "Stonebridge",
    "Westbrook", "Willowbrook", "Ironwood", "Cedarhurst", "Foxborough", "Granite Falls",
    "Kettering", "Larchmont", "Marlowe", "Newbury", "Ridgecrest", "Saddleback", "Tamarack",
    "Whitfield", "Ambrose", "Castillo", "Delgado", "Esposito", "Fitzgerald",
)
EN_B = (
    "Advanced", "Allied", "Precision", "Integrated", "Dynamic", "Global", "United", "Pacific",
    "Atlantic", "Continental", "Premier", "Superior", "Standard", "Modern", "Reliable",
    "Strategic", "Quality", "Keystone", "Liberty", "Pioneer", "Frontier", "Heritage", "Eagle",
    "Apex", "Vanguard", "Sentinel", "Patriot", "Horizon", "Meridian", "Cardinal", "Crescent",
    "Evergreen", "Gateway", "Landmark", "Lone Star", "Midwest", "Northern", "Southern",
    "Western", "Eastern", "Central", "Coastal", "Mountain", "Prairie", "Delta", "Summit",
    "Titan", "Paragon", "Pinnacle", "Sovereign", "Trident", "Unity", "Valor", "Zenith",
    "Ascent", "Beacon", "Compass", "Keyline", "Mosaic", "Nexus",
)
EN_C = (
    "Tools", "Metals", "Plastics", "Logistics", "Packaging", "Components", "Electronics",
    "Fasteners", "Chemicals", "Textiles", "Machinery", "Hydraulics", "Controls", "Instruments",
    "Coatings", "Castings", "Forgings", "Bearings", "Valves", "Pumps", "Motors", "Systems",
    "Solutions", "Supply", "Distributors", "Industries", "Manufacturing", "Fabrication",
    "Engineering", "Materials", "Polymers", "Optics", "Semiconductors", "Circuits", "Cables",
    "Wire Works", "Steel", "Aluminum", "Lumber", "Paper", "Freight", "Containers", "Adhesives",
    "Lubricants", "Abrasives", "Filters", "Gaskets", "Springs", "Robotics", "Automation",
    "Sensors", "Lighting", "Batteries", "Pneumatics", "Tooling", "Molding", "Stamping",
    "Welding", "Finishing", "Printing",
)
GB_A = (
    "Abingdon", "Alderley", "Ashby", "Aylesbury", "Bamford", "Barnsley", "Beckett", "Bexley",
    "Blyth", "Bramhall", "Brigham", "Buxton", "Camborne", "Carlisle", "Chesham", "Clitheroe",
    "Corbridge", "Crewe", "Darlington", "Dorset", "Dunmore", "Egerton", "Ellesmere",
    "Farnham", "Felton", "Frodsham", "Glossop", "Goring", "Halifax", "Harrogate", "Haslemere",
    "Hexham", "Holmfirth", "Ilkley", "Kendal", "Keswick", "Knutsford", "Ledbury", "Lymington",
    "Malvern", "Marlow", "Matlock", "Melrose", "Morpeth", "Nantwich", "Newark", "Oakham",
    "Ormskirk", "Otley", "Penrith", "Pershore", "Ramsbottom", "Reigate", "Ripon", "Romsey",
    "Rothbury", "Saltash", "Sedbergh", "Skipton", "Stamford", "Tadcaster", "Tetbury",
    "Thirsk", "Tiverton", "Totnes", "Uttoxeter", "Wantage", "Wetherby", "Whitby", "Witney",
    "Woburn", "Yarm", "O'Neill", "McAllister", "MacLeod", "Fitzwilliam", "St John's",
    "Ashworth", "Bancroft", "Cartwright", "Chatterton", "Cholmondeley", "Drysdale", "Entwistle",
    "Featherstone", "Gresham", "Hargreaves", "Higginbottom", "Illingworth", "Lancaster",
    "Mowbray", "Ogilvy", "Pennington", "Quarmby", "Rowntree", "Sowerby", "Thwaite",
    "Wainwright", "Worthington", "Aldridge", "Blenkinsop", "Crossley", "Dewhurst", "Fothergill",
    "Greenhalgh", "Hebblethwaite", "Kilburn", "Lofthouse", "Murgatroyd", "Nettleton",
)
GB_B = (
    "Albion", "Britannia", "Caledonian", "Cambrian", "Celtic", "Chiltern", "Cotswold",
    "Crown", "Dales", "Downland", "Empire", "Fenland", "Forest", "Gilded", "Grampian",
    "Highland", "Imperial", "Kingfisher", "Lion", "Mercia", "Moorland", "Northumbrian",
    "Pennine", "Regal", "Royal", "Saxon", "Severn", "Solent", "Sterling", "Thames", "Trent",
    "Tudor", "Tyne", "Union", "Victoria", "Weald", "Wessex", "Windsor", "Yorkshire", "Anglian",
    "Bristol", "Clyde", "Cumbrian", "Dorian", "Essex", "Harbour", "Humber", "Kentish",
    "Lothian", "Mersey", "Norman", "Orchard", "Pembroke", "Quayside", "Ribble", "Shire",
    "Tamar", "Ulster", "Wye", "Avon",
)
GB_C = (
    "Engineering", "Fabrications", "Foundry", "Haulage", "Hardware", "Joinery", "Mouldings",
    "Packaging", "Plastics", "Precision", "Pressings", "Print", "Rubber", "Scaffolding",
    "Steelworks", "Supplies", "Textiles", "Timber", "Tooling", "Transport", "Turbines",
    "Valves", "Wire", "Chemicals", "Components", "Controls", "Electrical", "Electronics",
    "Enterprises", "Fasteners", "Fixings", "Hydraulics", "Instruments", "Laboratories",
    "Lifting", "Logistics", "Machining", "Marine", "Metals", "Mills", "Motors", "Optical",
    "Pneumatics", "Pumps", "Refractories", "Seals", "Signs", "Springs", "Stampings",
    "Storage", "Systems", "Technical", "Coatings", "Castings", "Bearings", "Abrasives",
    "Adhesives", "Cables", "Cutting Tools", "Filtration",
)
DE_A = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze",
    "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs",
    "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel",
    "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus",
    "Martin", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß",
    "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich",
    "Ziegler", "Kuhn", "Brinkmann", "Pohl", "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt",
    "Sauer", "Arnold", "Wolff", "Pfeiffer",
)
DE_B = (
    "Präzisions", "Stahl", "Metall", "Kunststoff", "Maschinen", "Elektro", "Feinmechanik",
    "Anlagen", "Antriebs", "Armaturen", "Automations", "Befestigungs", "Beschichtungs",
    "Blech", "Dicht", "Druckguss", "Energie", "Filter", "Förder", "Fräs", "Getriebe", "Guss",
    "Hydraulik", "Industrie", "Kabel", "Kälte", "Kessel", "Klima", "Kupfer", "Lager",
    "Laser", "Leder", "Licht", "Mess", "Motoren", "Papier", "Pumpen", "Regel", "Rohr",
    "Schweiß", "Sensor", "Sicherheits", "Spezial", "Stanz", "Steuerungs", "Textil", "Umwelt",
    "Verpackungs", "Werkzeug", "Zahnrad", "Aluminium", "Bau", "Chemie", "Draht", "Feder",
    "Glas", "Holz", "Lack", "Optik", "Prüf",
)
DE_C = (
    "technik", "bau", "handel", "werke", "systeme", "vertrieb", "service", "logistik",
    "fertigung", "produktion", "montage", "bedarf", "zentrale", "kontor", "manufaktur",
    "werkstatt", "fabrik", "union", "partner", "kompetenz", "lösungen", "komponenten",
    "elemente", "profile", "teile", "industrie", "labor", "engineering", "design", "entwicklung",
    "konstruktion", "versand", "depot", "markt", "center", "team", "gruppe", "verbund",
    "netz", "plan", "form", "tec", "line", "pro", "point", "welt", "haus", "hof", "land",
    "quelle", "punkt", "kraft", "schmiede", "mühle", "dienst", "bearbeitung", "veredelung",
    "zuschnitt", "recycling", "automation",
)
JP_A = (
    "東京", "大阪", "名古屋", "横浜", "神戸", "京都", "札幌", "仙台", "広島", "福岡", "北九州",
    "千葉", "埼玉", "川崎", "静岡", "浜松", "新潟", "金沢", "富山", "岡山", "熊本", "鹿児島",
    "長崎", "大分", "宮崎", "高松", "松山", "高知", "徳島", "奈良", "和歌山", "岐阜", "三重",
    "滋賀", "福井", "長野", "山梨", "群馬", "栃木", "茨城", "福島", "山形", "秋田", "岩手",
    "青森", "函館", "旭川", "釧路", "帯広", "苫小牧", "八戸", "盛岡", "郡山", "いわき", "宇都宮",
    "前橋", "高崎", "水戸", "つくば", "柏", "船橋", "松戸", "市川", "八王子", "立川", "町田",
    "相模原", "厚木", "藤沢", "小田原", "沼津", "富士", "豊橋", "豊田", "岡崎", "一宮", "四日市",
    "津", "大津", "松本", "姫路",
)
JP_B = (
    "精密", "技研", "電機", "化成", "金属", "鋼業", "光学", "電子", "機工", "理化", "製鋼",
    "重機", "産機", "合金", "樹脂", "硝子", "窯業", "繊維", "化学", "印刷", "包装", "物産",
    "通商", "興業", "開発", "設計", "計装", "制御", "電装", "鍛造", "鋳造", "プレス", "ダイカスト",
    "ゴム", "バルブ", "ポンプ", "ギア", "ベアリング", "モーター", "ケーブル", "テクノ",
    "エンジニア",
    "ロジ", "グリーン", "ブルー", "サン", "ダイヤ", "ゴールド", "シルバー", "パシフィック",
)
JP_C = (
    "工業", "製作所", "商事", "物流", "産業", "工務店", "興産", "商会", "製造", "工機",
    "システム", "サービス", "販売", "技術", "工房", "研究所", "総業", "商店", "貿易", "運輸",
    "倉庫", "建設", "電工", "製作", "機械", "化工", "器械", "機器", "資材", "部品", "製品",
    "材料", "商工", "交易", "実業", "企画", "工芸", "加工", "精工", "工作所",
)
CN_A = (
    "上海", "北京", "深圳", "广州", "天津", "重庆", "杭州", "南京", "苏州", "无锡", "宁波",
    "青岛", "大连", "沈阳", "长春", "哈尔滨", "济南", "郑州", "武汉", "长沙", "南昌", "合肥",
    "福州", "厦门", "泉州", "东莞", "佛山", "中山", "珠海", "汕头", "南宁", "昆明", "贵阳",
    "成都", "西安", "兰州", "太原", "石家庄", "呼和浩特", "乌鲁木齐", "常州", "南通", "扬州",
    "徐州", "温州", "嘉兴", "绍兴", "台州", "金华", "烟台", "潍坊", "淄博", "洛阳", "襄阳",
    "宜昌", "株洲", "柳州", "绵阳", "宝鸡", "唐山",
)
CN_B = (
    "华盛", "宏达", "鑫源", "恒通", "永泰", "瑞丰", "金鼎", "天成", "东方", "长城", "海天",
    "中联", "安达", "博远", "昌盛", "鼎新", "福瑞", "广源", "国泰", "汇丰", "嘉禾", "锦程",
    "凯达", "立信", "隆基", "美达", "明阳", "南山", "鹏程", "启航", "荣盛", "润华", "三联",
    "盛达", "泰和", "通达", "万里", "伟业", "新华", "兴业", "亚太", "银河", "远航", "振华",
    "正大", "志成", "中科", "卓越", "百川", "诚信", "大成", "德润", "方圆", "高科", "和信",
    "华信", "建华", "金桥", "康达", "力帆",
)
CN_C = (
    "科技", "机械", "电子", "贸易", "物流", "精密", "五金", "塑胶", "化工", "材料", "电气",
    "自动化", "包装", "印刷", "纺织", "钢铁", "铝业", "铸造", "模具", "轴承", "阀门", "泵业",
    "电机", "光电", "仪器", "设备", "工程", "实业", "制造", "工业", "新材料", "汽车配件",
    "橡胶", "玻璃", "陶瓷", "照明", "电缆", "传动", "液压", "智能",
)

# Legal forms: (form as the vendor carries it, alternative spellings of the same form).
LEGAL_FORMS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "en": (
        (", Inc.", (" Incorporated", " Inc")), (" Inc.", (" Incorporated", ", Inc")),
        (" LLC", (" L.L.C.", " Limited Liability Company")), (" Corp.", (" Corporation",)),
        (" Corporation", (" Corp.", " Corp")), (" Co.", (" Company",)),
    ),
    "gb": (
        (" Ltd", (" Limited", " Ltd.")), (" Limited", (" Ltd", " Ltd.")),
        (" PLC", (" plc", " Public Limited Company")), (" LLP", (" L.L.P.",)),
    ),
    "de": (
        (" GmbH", (" G.m.b.H.", " Gesellschaft mit beschränkter Haftung")),
        (" AG", (" Aktiengesellschaft",)), (" KG", (" Kommanditgesellschaft",)),
        (" GmbH & Co. KG", (" GmbH und Co. KG", " GmbH & Co KG")), (" e.K.", (" e. K.",)),
    ),
    "jp": (("株式会社", ("(株)", "㈱")), ("有限会社", ("(有)",)), ("合同会社", ("(同)",))),
    "cn": (("有限公司", ("有限责任公司",)), ("股份有限公司", ("股份公司",))),
}

# Fillers never take part in a name's uniqueness; some carry quotes, ampersands or commas, and
# the long ones push names past 60 characters.
FILLERS: dict[str, tuple[str, ...]] = {
    "en": (" Group", " International", " Holdings", " & Co.", " Worldwide", " and Sons",
           ' "Quality First"', " of America"),
    "gb": (" Group", " International", " Holdings", " & Sons", " (UK)", " and Partners",
           ' "The Original"', " of Great Britain"),
    "de": (" Holding", " & Co.", " Gruppe", " International", " und Partner", " Vertrieb",
           ' "Werk Nord"', " Deutschland"),
    "jp": ("ホールディングス", "グループ", "インターナショナル", "ジャパン"),
    "cn": ("集团", "控股", "国际", "实业"),
}
LONG_FILLERS: dict[str, tuple[str, ...]] = {
    "en": (" Industrial Manufacturing, Engineering and Distribution Services",
           " International Procurement & Global Supply Chain Solutions"),
    "gb": (" Industrial Manufacturing, Engineering and Distribution Services",
           " Specialist Engineering & Technical Support Services (Northern Region)"),
    "de": (" Industrieanlagen-, Maschinenbau- und Vertriebsgesellschaft",
           " Technische Dienstleistungen für Industrie, Handel und Gewerbe"),
    "jp": ("産業機械・精密部品・電子機器総合製造販売",
    "国際物流・倉庫管理・通関業務サービスセンター"),
    "cn": ("精密机械设备及电子元器件研发生产销售中心", "国际物流仓储及供应链管理服务有限分公司"),
}

# Words of counterparties that match no vendor: disjoint from every slot above.
UNLINKED_A = (
    "Quillfeather", "Yarrowmere", "Zephyrine", "Oddbody", "Thistledown", "Marrowgate",
    "Ravenglass", "Obsidia", "Wyvernhold", "Kestrelwick", "Jubilant", "Vellichor",
    "Sapphirra", "Umbrage", "Xanthic", "Gossamer", "Lanternfly", "Moonquarry", "Nimbusline",
    "Pebblewhistle", "Quartzwing", "Rookery", "Saltmarsh", "Tidewater", "Wrenfield",
)
UNLINKED_B = (
    "Curiosities", "Oddments", "Apothecary", "Menagerie", "Atelier", "Emporium", "Confectioners",
    "Haberdashery", "Orchestras", "Vineyards", "Bakehouse", "Brewing", "Cartography",
    "Falconry", "Millinery", "Perfumery", "Taxidermy", "Tea Rooms", "Bookbinders", "Clockmakers",
)
UNLINKED_FORMS = (" Cooperative", " Collective", " Syndicate", " Guild", " Society", " Trust")
# fmt: on

SLOTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "en": (EN_A, EN_B, EN_C),
    "gb": (GB_A, GB_B, GB_C),
    "de": (DE_A, DE_B, DE_C),
    "jp": (JP_A, JP_B, JP_C),
    "cn": (CN_A, CN_B, CN_C),
}


def capacity(style: str) -> int:
    """How many distinct name cores a style can build (vendors beyond it get a branch number)."""
    a, b, c = SLOTS[style]
    return len(a) * len(b) * len(c)


def _check() -> None:
    for style, (a, b, c) in SLOTS.items():
        for slot in (a, b, c):
            if len(set(slot)) != len(slot):
                raise ValueError(f"duplicate words in a {style} slot")
        if set(a) & set(b) or set(a) & set(c) or set(b) & set(c):
            raise ValueError(f"{style} slots share words")


_check()

# Words of vendors SCM creates after the world was generated (mutations): disjoint from every
# list above, so a new vendor never makes a counterparty's name match two vendors.
NEW_A = (
    "Aurelian",
    "Borealis",
    "Cobaltline",
    "Driftwood",
    "Emberton",
    "Fernhollow",
    "Glasswing",
    "Halcyon",
    "Indigo Bay",
    "Juniper Ridge",
    "Kelpie",
    "Lodestar",
    "Mistral",
    "Northwind",
    "Opaline",
    "Quicksilver",
    "Rosewater",
    "Sablewood",
    "Tanglewood",
    "Umberfield",
)
NEW_B = (
    "Sourcing",
    "Trading",
    "Provisions",
    "Commodities",
    "Procurement",
    "Outfitters",
    "Wholesale",
    "Merchants",
    "Exports",
    "Imports",
)
NEW_STREETS = ("Harbour Gate", "Innovation Way", "Neue Mitte", "Science Park", "Riverside Quay")
