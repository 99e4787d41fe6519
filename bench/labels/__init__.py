"""Asset labels: templates (data), layout, ESC/POS rendering, PNG preview, printers and
the print queue.

    label_fields(store, asset_tag=..., config=...) -> LabelFields      (content)
    load_template(name) -> Template                                    (template)
    layout(template, fields) -> Layout                                 (layout)
    escpos_bytes(layout, capabilities(profile), copies) -> bytes       (render)
    save_png(layout, path) / render_image(layout)                      (preview)
    open_printer(url, ...) -> Printer; printer_status(url)             (printers)
    print_label(station, ...) / retry_pending(station) / pending(store) (queue)
"""
