-- CLM counterparties that are not cleanly linked to their SCM vendor by the vendor account they
-- carry: one row per counterparty and kind.
--
-- counterparty_linked_by_tax_id / _by_name: found without an account (check the link, then
-- put the account in the CLM); counterparty_unlinked: no vendor found, or the best candidate
-- was not sure enough (`link_status` review, with the candidate and its score): nothing of it
-- is pushed until someone decides; duplicate_counterparty: this counterparty and another one
-- link to the same vendor (`other_counterparty_ids`).

with

links as not materialized (

    select * from intermediate.int_counterparty_links

),

shared_vendors as (

    -- Vendors more than one counterparty links to: counted first with a plain aggregate, so
    -- the ordered list of counterparty ids is only built for these few.
    select
        legal_entity,
        vendor_account
    from links
    where link_status = 'linked'
    group by legal_entity, vendor_account
    having count(*) > 1

),

duplicated_vendors as (

    select
        links.legal_entity,
        links.vendor_account,
        list(links.counterparty_id order by links.counterparty_id) as counterparty_ids
    from links
    semi join shared_vendors
        on shared_vendors.legal_entity = links.legal_entity
        and shared_vendors.vendor_account = links.vendor_account
    where links.link_status = 'linked'
    group by links.legal_entity, links.vendor_account

),

link_rows as (

    select
        links.*,
        case
            when links.link_status = 'linked' and links.link_method = 'tax_id'
                then 'counterparty_linked_by_tax_id'
            when links.link_status = 'linked' and links.link_method = 'name'
                then 'counterparty_linked_by_name'
            when links.link_status in ('unlinked', 'review', 'unknown_business_unit')
                then 'counterparty_unlinked'
        end as kind,
        cast(null as varchar[]) as other_counterparty_ids
    from links

),

duplicate_rows as (

    select
        links.*,
        'duplicate_counterparty' as kind,
        list_filter(
            duplicated_vendors.counterparty_ids, lambda id: id <> links.counterparty_id
        ) as other_counterparty_ids
    from links
    inner join duplicated_vendors
        on duplicated_vendors.legal_entity = links.legal_entity
        and duplicated_vendors.vendor_account = links.vendor_account
    where links.link_status = 'linked'

),

final as (

    select
        counterparty_id,
        kind,
        counterparty_name,
        business_unit,
        legal_entity,
        clm_vendor_account,
        tax_id,
        link_status,
        link_method,
        vendor_account,
        vendor_name,
        confidence,
        candidate_vendor_account,
        candidate_score,
        runner_up_score,
        link_status = 'review' as needs_review,
        other_counterparty_ids
    from (
        select * from link_rows where kind is not null
        union all by name
        select * from duplicate_rows
    )

)

select * from final
