// The page's one way to make markup: htm tagged templates bound to preact's h. Values interpolated into a
// template become text nodes or attribute values, escaped by preact; nothing here sets raw HTML.
import { h } from 'preact';
import htm from 'htm';

/** Tagged template for preact elements. */
export const html = htm.bind(h);
