import type { ConnectorType } from "./types";
import { shopify } from "./shopify";
import { wordpress } from "./wordpress";

/** Every connector type. A new type is one folder exporting a ConnectorType, added here. */
export const CONNECTOR_TYPES = { wordpress, shopify } as const satisfies Record<string, ConnectorType>;

export type ConnectorTypeName = keyof typeof CONNECTOR_TYPES;
export const CONNECTOR_TYPE_NAMES = Object.keys(CONNECTOR_TYPES) as [ConnectorTypeName, ...ConnectorTypeName[]];

/** The type named `name`, or undefined for a row this build does not know (e.g. an API key row). */
export function connectorType(name: string): ConnectorType | undefined {
  return Object.hasOwn(CONNECTOR_TYPES, name) ? CONNECTOR_TYPES[name as ConnectorTypeName] : undefined;
}
