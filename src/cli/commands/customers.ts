import { toCustomerBody, toUserBody } from '../../services/subject-view.js'
import { checkCustomerName, checkSubjectId } from '../checks.js'
import { str, type Command } from '../command.js'
import { emit, printLine } from '../output.js'
import { withSession } from '../session.js'

const addCustomer: Command = {
  name: 'add-customer',
  args: ['ID'],
  synopsis: '[--name N]',
  summary: 'register a customer',
  optionHelp: [['--name N', 'a human-readable name']],
  options: { name: { type: 'string' } },
  json: 'the customer, as GET /customers/{id} returns it',
  async run ({ args: [id], values, json }) {
    const name = str(values, 'name')
    const input = { id: checkSubjectId('customer', id), ...(name !== undefined ? { name: checkCustomerName(name) } : {}) }
    const customer = await withSession((s) => s.subjects.addCustomer(input, s.write))
    emit(json, toCustomerBody(customer), () => printLine(`customer ${customer.id} added${customer.name === null ? '' : ` (${customer.name})`}`))
  }
}

const removeCustomer: Command = {
  name: 'remove-customer',
  args: ['ID'],
  summary: 'remove a customer and its overrides (its users stay, without a customer)',
  json: '{"id": ID, "removed": true}',
  async run ({ args: [id], json }) {
    await withSession((s) => s.subjects.removeCustomer(id, s.write))
    emit(json, { id, removed: true }, () => printLine(`customer ${id} removed`))
  }
}

const addUser: Command = {
  name: 'add-user',
  args: ['ID'],
  synopsis: '[--customer-id C]',
  summary: 'register a user, optionally of a customer (an unknown customer is registered)',
  optionHelp: [['--customer-id C', 'the customer the user belongs to: evaluation infers it when a context has only the user']],
  options: { 'customer-id': { type: 'string' } },
  json: 'the user, as GET /users/{id} returns it',
  async run ({ args: [id], values, json }) {
    const customerId = str(values, 'customer-id')
    const input = { id: checkSubjectId('user', id), ...(customerId !== undefined ? { customerId: checkSubjectId('customer', customerId) } : {}) }
    const user = await withSession((s) => s.subjects.addUser(input, s.write))
    emit(json, toUserBody(user), () => printLine(`user ${user.id} added${user.customerId === null ? '' : ` (customer ${user.customerId})`}`))
  }
}

const removeUser: Command = {
  name: 'remove-user',
  args: ['ID'],
  summary: 'remove a user and its overrides',
  json: '{"id": ID, "removed": true}',
  async run ({ args: [id], json }) {
    await withSession((s) => s.subjects.removeUser(id, s.write))
    emit(json, { id, removed: true }, () => printLine(`user ${id} removed`))
  }
}

export const customerCommands = [addCustomer, removeCustomer, addUser, removeUser]
