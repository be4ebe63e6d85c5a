// The checks upstream's conversion of an applied configuration to a typed value makes: every field declared
// by the schema, scalars of the declared type, associative list items keyed and unique. Messages are
// upstream's, prefixed with the field path (`.spec.containers[name="a"].image: …`).

import { isObject } from '../object.js';
import type { PathElement } from './field-set.js';
import { elementString } from './field-set.js';
import type { TypeNode } from './schema-types.js';
import { fieldType, isScalar, kindOf, listItemElement } from './typed.js';

/** The problems upstream's typed conversion reports, as `<path>: <message>`. */
export function validateApplied(value: unknown, type: TypeNode): string[] {
  const errors: string[] = [];
  validateAt(value, type, '', errors);
  return errors;
}

function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (isObject(value)) return `map[${Object.entries(value).map(([key, item]) => `${key}:${goValue(item)}`).join(' ')}]`;
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  return String(value);
}

function goTypeName(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  if (Array.isArray(value)) return '[]interface {}';
  if (isObject(value)) return 'map[string]interface {}';
  return '<nil>';
}

function validateAt(value: unknown, type: TypeNode, path: string, errors: string[]): void {
  const atom = type.atom();
  const at = (message: string): void => {
    errors.push(path ? `${path}: ${message}` : message);
  };
  if (value === null) return;
  switch (kindOf(atom, value)) {
    case 'scalar': {
      const scalar = atom.scalar!;
      if (scalar === 'numeric' && typeof value !== 'number') at(`expected numeric (int or float), got ${goTypeName(value)}`);
      else if (scalar === 'string' && typeof value !== 'string') at(`expected string, got &value.valueUnstructured{Value:${goValue(value)}}`);
      else if (scalar === 'boolean' && typeof value !== 'boolean') at(`expected boolean, got ${goValue(value)}`);
      else if (scalar === 'untyped' && !isScalar(value)) at(`expected any scalar, got ${goValue(value)}`);
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return at(`expected list, got ${goValue(value)}`);
      const list = atom.list!;
      if (list.atomic) return;
      const seen = new Set<string>();
      value.forEach((item, index) => {
        let element: PathElement;
        try {
          element = listItemElement(list, item);
        } catch (error) {
          at(`element ${index}: ${(error as Error).message}`);
          return;
        }
        if (seen.has(element.id)) {
          at(`duplicate entries for key ${elementString(element)}`);
          return;
        }
        seen.add(element.id);
        validateAt(item, list.element, `${path}${elementString(element)}`, errors);
      });
      return;
    }
    case 'map': {
      if (!isObject(value)) return at(`expected map, got ${goValue(value)}`);
      const map = atom.map!;
      for (const [key, child] of Object.entries(value)) {
        const childType = fieldType(map, key);
        const childPath = `${path}.${key}`;
        if (!childType) errors.push(`${childPath}: field not declared in schema`);
        else validateAt(child, childType, childPath, errors);
      }
    }
  }
}
