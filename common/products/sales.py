"""Units sold per product (products.sales_count), derived from the lines of active invoices.

Recomputed from the invoices rather than incremented, so replays and edits of an invoice
can never count a sale twice. The best-sellers list reads the column.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Connection, ScalarSelect, and_, func, select, update

from common.models import invoice_lines, invoices, products


def units_sold(zoho_item_id: ColumnElement[str] | str) -> ScalarSelect[int]:
    """Units on the active invoices' lines of an item (a column or a value): the value a product
    row is created with, since its invoices may have arrived first."""
    return (
        select(func.coalesce(func.sum(invoice_lines.c.quantity), 0))
        .select_from(invoice_lines.join(invoices, invoices.c.id == invoice_lines.c.invoice_id))
        .where(and_(invoice_lines.c.zoho_item_id == zoho_item_id, invoices.c.is_active))
        .scalar_subquery()
    )


def recompute_sales_counts(connection: Connection, zoho_item_ids: Collection[str] | None = None) -> None:
    """Refresh sales_count for these Zoho items (every product when None)."""
    if zoho_item_ids is not None and not zoho_item_ids:
        return
    sold = units_sold(products.c.zoho_item_id)
    # Only rows whose count changes are written (no dead tuples, no index churn).
    statement = update(products).where(products.c.sales_count != sold).values(sales_count=sold)
    if zoho_item_ids is not None:
        chosen = products.c.zoho_item_id.in_(sorted(zoho_item_ids))
        # Lock the products first, in id order: two invoices sharing an item then take turns,
        # and the second sums in a statement that starts after the first committed its lines.
        connection.execute(select(products.c.id).where(chosen).order_by(products.c.id).with_for_update())
        statement = statement.where(chosen)
    connection.execute(statement)
