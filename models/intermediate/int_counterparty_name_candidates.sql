-- Candidate vendors for the counterparties that carry no SCM vendor account, scored by name
-- and address similarity: one row per counterparty and candidate vendor.
--
-- Blocking: a counterparty is only compared with vendors of its business unit's legal entity
-- and country that share at least one block with it: the same address (postcode and street),
-- the same first two words of the name, or the same postcode and first two characters of the
-- name (name blocks only when at most 20 vendors of the legal entity share them). Nothing is
-- compared with everything: the cost follows the counterparties to place, not vendors x
-- counterparties.
--
-- Scoring: names are compared after removing punctuation, accents and legal forms ("GmbH",
-- "Limited", "株式会社", ...): the better of Jaro-Winkler similarity (typos, dropped words)
-- and word overlap (words in another order). score = 0.7 x name similarity + 0.3 x the share of
-- postcode, street and city that agree. int_counterparty_links decides what a score is worth.

with

counterparties as (

    select * from intermediate.int_counterparties where is_current

),

vendors as (

    select * from intermediate.int_vendors where is_current

),

code_lookup as (

    select * from intermediate.int_code_lookup

),

to_place as (

    select
        counterparties.counterparty_id,
        business_units.scm_code as legal_entity,
        countries.scm_code as country_code,
        counterparties.counterparty_name_cmp as name_cmp,
        counterparties.zip_code_cmp,
        counterparties.street_cmp,
        counterparties.city_cmp
    from counterparties
    inner join code_lookup as business_units
        on business_units.domain = 'business_unit'
        and business_units.clm_code_cmp = counterparties.business_unit_cmp
    left join code_lookup as countries
        on countries.domain = 'country'
        and countries.clm_code_cmp = counterparties.country_cmp
    where counterparties.vendor_account is null

),

vendor_blocks as (

    -- int_vendors works out each vendor's blocks (leading_words, postcode_and_initials) by
    -- the rules placed_blocks below applies to counterparties
    select
        legal_entity,
        vendor_account,
        country_code,
        vendor_name_cmp as name_cmp,
        zip_code_cmp,
        street_cmp,
        city_cmp,
        leading_words,
        postcode_and_initials
    from vendors

),

placed_blocks as (

    -- the same rules as int_vendors' leading_words and postcode_and_initials
    select
        *,
        case
            when name_cmp like '% %'
                then split_part(name_cmp, ' ', 1) || ' ' || split_part(name_cmp, ' ', 2)
        end as leading_words,
        zip_code_cmp || ' ' || left(name_cmp, 2) as postcode_and_initials
    from to_place

),

small_name_blocks as (

    -- Block purging: name blocks many vendors share ("Smith & ...", a city every Chinese
    -- company of a district starts with) say little and would cost more comparisons than they
    -- are worth; the address block still finds those vendors.
    select
        'leading_words' as block,
        legal_entity,
        leading_words as block_key
    from vendor_blocks
    where leading_words in (select leading_words from placed_blocks)
    group by legal_entity, leading_words
    having count(*) <= 20

    union all

    select
        'postcode_and_initials' as block,
        legal_entity,
        postcode_and_initials as block_key
    from vendor_blocks
    where postcode_and_initials in (select postcode_and_initials from placed_blocks)
    group by legal_entity, postcode_and_initials
    having count(*) <= 20

),

blocked_pairs as (

    -- the same address: postcode and street
    select
        placed_blocks.counterparty_id,
        vendor_blocks.legal_entity,
        vendor_blocks.vendor_account
    from placed_blocks
    inner join vendor_blocks
        on vendor_blocks.legal_entity = placed_blocks.legal_entity
        and vendor_blocks.zip_code_cmp = placed_blocks.zip_code_cmp
        and vendor_blocks.street_cmp = placed_blocks.street_cmp

    union

    -- the same first two words of the name
    select
        placed_blocks.counterparty_id,
        vendor_blocks.legal_entity,
        vendor_blocks.vendor_account
    from placed_blocks
    inner join vendor_blocks
        on vendor_blocks.legal_entity = placed_blocks.legal_entity
        and vendor_blocks.leading_words = placed_blocks.leading_words
    semi join small_name_blocks
        on small_name_blocks.block = 'leading_words'
        and small_name_blocks.legal_entity = placed_blocks.legal_entity
        and small_name_blocks.block_key = placed_blocks.leading_words

    union

    -- the same postcode and first two characters of the name (names without spaces: CJK)
    select
        placed_blocks.counterparty_id,
        vendor_blocks.legal_entity,
        vendor_blocks.vendor_account
    from placed_blocks
    inner join vendor_blocks
        on vendor_blocks.legal_entity = placed_blocks.legal_entity
        and vendor_blocks.postcode_and_initials = placed_blocks.postcode_and_initials
    semi join small_name_blocks
        on small_name_blocks.block = 'postcode_and_initials'
        and small_name_blocks.legal_entity = placed_blocks.legal_entity
        and small_name_blocks.block_key = placed_blocks.postcode_and_initials

),

pairs as (

    select
        blocked_pairs.counterparty_id,
        blocked_pairs.legal_entity,
        blocked_pairs.vendor_account,
        placed_blocks.name_cmp as counterparty_name_cmp,
        vendor_blocks.name_cmp as vendor_name_cmp,
        placed_blocks.zip_code_cmp = vendor_blocks.zip_code_cmp as same_postcode,
        placed_blocks.street_cmp = vendor_blocks.street_cmp as same_street,
        placed_blocks.city_cmp = vendor_blocks.city_cmp as same_city
    from blocked_pairs
    inner join placed_blocks
        on placed_blocks.counterparty_id = blocked_pairs.counterparty_id
    inner join vendor_blocks
        on vendor_blocks.legal_entity = blocked_pairs.legal_entity
        and vendor_blocks.vendor_account = blocked_pairs.vendor_account
    -- A different country is a different company, whatever the name says.
    where placed_blocks.country_code is null
        or vendor_blocks.country_code is null
        or placed_blocks.country_code = vendor_blocks.country_code

),

name_keys as (

    -- Legal forms and punctuation carry no identity: "Müller GmbH" and "Muller G.m.b.H." are
    -- one name. CJK legal forms go first (they hold no spaces), then punctuation becomes a
    -- space, then Latin legal forms (longest first) are dropped.
    select
        *,
        trim(regexp_replace(
            regexp_replace(
                regexp_replace(
                    strip_accents(regexp_replace(
                        name_text,
                        '株式会社|\(株\)|（株）|㈱|有限会社|\(有\)|（有）|合同会社|\(同\)|（同）'
                        || '|股份有限公司|有限责任公司|股份公司|有限公司',
                        ' ',
                        'g'
                    )),
                    '[^\p{L}\p{N}\s]',
                    ' ',
                    'g'
                ),
                '\b(gesellschaft mit beschrankter haftung|limited liability company'
                || '|public limited company|aktiengesellschaft|kommanditgesellschaft'
                || '|incorporated|corporation|company|limited|l l c|l l p|g m b h'
                || '|inc|llc|llp|corp|co|ltd|plc|gmbh|ag|kg|e k|ek)\b',
                ' ',
                'g'
            ),
            '\s+',
            ' ',
            'g'
        )) as name_key
    from (
        select distinct counterparty_name_cmp as name_text from pairs
        union
        select distinct vendor_name_cmp as name_text from pairs
    )

),

compared as (

    select
        pairs.*,
        counterparty_keys.name_key as counterparty_name_key,
        vendor_keys.name_key as vendor_name_key,
        jaro_winkler_similarity(counterparty_keys.name_key, vendor_keys.name_key)
            as name_jaro_winkler,
        len(list_intersect(
            string_split(counterparty_keys.name_key, ' '),
            string_split(vendor_keys.name_key, ' ')
        ))::double / greatest(len(list_distinct(
            string_split(counterparty_keys.name_key, ' ')
            || string_split(vendor_keys.name_key, ' ')
        )), 1) as name_word_overlap
    from pairs
    inner join name_keys as counterparty_keys
        on counterparty_keys.name_text = pairs.counterparty_name_cmp
    inner join name_keys as vendor_keys
        on vendor_keys.name_text = pairs.vendor_name_cmp

),

scored as (

    select
        *,
        greatest(name_jaro_winkler, name_word_overlap) as name_similarity,
        round(
            0.7 * greatest(name_jaro_winkler, name_word_overlap)
            + 0.3 * (
                coalesce(same_postcode, false)::int
                + coalesce(same_street, false)::int
                + coalesce(same_city, false)::int
            ) / 3.0,
            4
        ) as score
    from compared

),

final as (

    select
        counterparty_id,
        legal_entity,
        vendor_account,
        counterparty_name_key,
        vendor_name_key,
        round(name_similarity, 4) as name_similarity,
        coalesce(same_postcode, false) as same_postcode,
        coalesce(same_street, false) as same_street,
        coalesce(same_city, false) as same_city,
        score,
        row_number() over (
            partition by counterparty_id
            order by score desc, vendor_account
        ) as candidate_rank
    from scored

)

select * from final
