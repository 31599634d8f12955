/**
 * The demo catalog: six categories, ten products each. Prices are in euro cents. Ids are
 * stable slugs, so seeding twice changes nothing and tests can name products.
 */
export interface SeedProduct {
  id: string
  name: string
  description: string
  price: number
  stock: number
  attributes: Record<string, string>
}

export interface SeedCategory {
  id: string
  name: string
  description: string
  products: SeedProduct[]
}

const p = (
  id: string,
  name: string,
  description: string,
  price: number,
  stock: number,
  attributes: Record<string, string> = {}
): SeedProduct => ({
  id,
  name,
  description,
  price,
  stock,
  attributes
})

export const DEMO_CATALOG: SeedCategory[] = [
  {
    id: 'coffee',
    name: 'Coffee & Tea',
    description: 'Beans, leaves and everything to brew them.',
    products: [
      p('espresso-beans-1kg', 'Espresso Beans 1 kg', 'Dark roast from Brazil and Ethiopia, notes of cocoa and cherry.', 2490, 120, {
        roast: 'dark',
        origin: 'Brazil'
      }),
      p('filter-coffee-500g', 'Filter Coffee 500 g', 'Light roast single origin from Kenya, bright and juicy.', 1390, 80, {
        roast: 'light',
        origin: 'Kenya'
      }),
      p('pour-over-dripper', 'Ceramic Pour-Over Dripper', 'Porcelain dripper with spiral ribs for an even extraction.', 2900, 40, {
        material: 'porcelain',
        colour: 'white'
      }),
      p('gooseneck-kettle', 'Gooseneck Kettle', 'Stainless steel kettle with a precise spout, 1 litre.', 5900, 25, {
        material: 'steel',
        capacity: '1 l'
      }),
      p('burr-grinder', 'Hand Burr Grinder', 'Conical steel burrs, 40 clicks from espresso to French press.', 8900, 30, {
        material: 'steel'
      }),
      p('espresso-cup-set', 'Espresso Cup Set', 'Four double-walled glass cups, 80 ml each.', 2400, 60, { material: 'glass', pieces: '4' }),
      p('green-tea-sencha', 'Sencha Green Tea', 'Steamed Japanese green tea, grassy and sweet, 100 g.', 1190, 90, { origin: 'Japan' }),
      p('chai-spice-blend', 'Chai Spice Blend', 'Black tea with cardamom, cinnamon, ginger and clove, 150 g.', 990, 70, {
        origin: 'India'
      }),
      p('milk-frother', 'Handheld Milk Frother', 'Battery whisk for cappuccino foam in seconds.', 1590, 100, { colour: 'black' }),
      p('cold-brew-bottle', 'Cold Brew Bottle', 'Glass bottle with fine mesh filter, 1 litre.', 2790, 45, {
        material: 'glass',
        capacity: '1 l'
      })
    ]
  },
  {
    id: 'kitchen',
    name: 'Kitchen',
    description: 'Tools and tableware for everyday cooking.',
    products: [
      p('chefs-knife', "Chef's Knife 20 cm", 'Forged stainless steel, full tang, balanced for long prep sessions.', 7900, 35, {
        material: 'steel',
        length: '20 cm'
      }),
      p('cast-iron-skillet', 'Cast Iron Skillet', 'Pre-seasoned 26 cm skillet for searing, baking and campfires.', 4500, 28, {
        material: 'cast iron',
        diameter: '26 cm'
      }),
      p('cutting-board-oak', 'Oak Cutting Board', 'End-grain oak board that is kind to knife edges.', 5400, 22, { material: 'oak' }),
      p('mixing-bowls', 'Nesting Mixing Bowls', 'Three stainless bowls with lids, 1, 2 and 4 litres.', 3600, 50, {
        material: 'steel',
        pieces: '3'
      }),
      p('stoneware-plates', 'Stoneware Dinner Plates', 'Set of four speckled plates, dishwasher safe.', 4800, 40, {
        material: 'stoneware',
        pieces: '4',
        colour: 'sand'
      }),
      p('linen-apron', 'Linen Apron', 'Washed linen with two deep pockets.', 3200, 55, { material: 'linen', colour: 'olive' }),
      p('spice-jars', 'Glass Spice Jars', 'Twelve jars with bamboo lids and labels.', 2600, 65, { material: 'glass', pieces: '12' }),
      p('dutch-oven', 'Enamelled Dutch Oven', 'Five litre casserole for stews and bread.', 11900, 15, {
        material: 'cast iron',
        capacity: '5 l',
        colour: 'red'
      }),
      p('wooden-spoons', 'Olive Wood Spoons', 'Three hand-carved spoons.', 1900, 75, { material: 'olive wood', pieces: '3' }),
      p('salad-spinner', 'Salad Spinner', 'Pump-action spinner that dries leaves in seconds.', 2990, 38, { colour: 'white' })
    ]
  },
  {
    id: 'office',
    name: 'Home Office',
    description: 'A desk you like sitting at.',
    products: [
      p('desk-lamp', 'Adjustable Desk Lamp', 'LED lamp with warm to cool light and a weighted base.', 6900, 33, {
        colour: 'black',
        power: '8 W'
      }),
      p('notebook-a5', 'Dotted Notebook A5', '192 pages of 100 g paper that takes fountain pens.', 1450, 150, { pages: '192' }),
      p('fountain-pen', 'Steel Fountain Pen', 'Medium nib, converter included.', 3900, 42, { material: 'steel', nib: 'medium' }),
      p('monitor-stand', 'Bamboo Monitor Stand', 'Raises the screen 10 cm with a drawer beneath.', 4200, 27, { material: 'bamboo' }),
      p('wool-desk-mat', 'Wool Felt Desk Mat', 'Merino felt, 80 by 30 cm.', 3500, 48, { material: 'wool', colour: 'grey' }),
      p('cable-organizer', 'Cable Organizer', 'Leather-free clips that keep cables on the desk edge.', 1200, 110, { pieces: '6' }),
      p('ergonomic-mouse', 'Ergonomic Mouse', 'Vertical wireless mouse for a relaxed wrist.', 4900, 36, { connection: 'bluetooth' }),
      p('mechanical-keyboard', 'Mechanical Keyboard', 'Compact 75% layout with tactile switches.', 12900, 18, {
        layout: 'ISO',
        switches: 'tactile'
      }),
      p('headphone-stand', 'Walnut Headphone Stand', 'Solid walnut stand with a brass hook.', 4400, 24, { material: 'walnut' }),
      p('desk-plant-pot', 'Ceramic Desk Plant Pot', 'Small pot with saucer for succulents.', 1800, 70, {
        material: 'ceramic',
        colour: 'terracotta'
      })
    ]
  },
  {
    id: 'outdoor',
    name: 'Outdoor',
    description: 'For days outside and nights under the sky.',
    products: [
      p('daypack-20l', 'Daypack 20 l', 'Water-resistant backpack with a padded laptop sleeve.', 7900, 30, {
        capacity: '20 l',
        colour: 'navy'
      }),
      p('insulated-bottle', 'Insulated Bottle', 'Keeps drinks cold 24 hours or hot 12, 750 ml.', 2900, 95, {
        material: 'steel',
        capacity: '750 ml'
      }),
      p('camping-stove', 'Camping Stove', 'Compact gas stove that boils a litre in four minutes.', 4900, 20, { fuel: 'gas' }),
      p('headlamp', 'Rechargeable Headlamp', '350 lumen headlamp with red light mode.', 3400, 44, { power: '350 lm' }),
      p('picnic-blanket', 'Picnic Blanket', 'Wool blanket with waterproof backing.', 5900, 26, { material: 'wool', colour: 'green' }),
      p('trekking-poles', 'Trekking Poles', 'Aluminium poles with cork grips, pair.', 6500, 19, { material: 'aluminium', pieces: '2' }),
      p('sleeping-bag', 'Three-Season Sleeping Bag', 'Synthetic fill, comfortable down to 2 °C.', 9900, 14, { temperature: '2 °C' }),
      p('enamel-mug', 'Enamel Camp Mug', 'Speckled enamel mug, 350 ml.', 1290, 120, { material: 'enamel', capacity: '350 ml' }),
      p('folding-chair', 'Folding Camp Chair', 'Lightweight chair that packs into its own bag.', 4600, 23, { material: 'aluminium' }),
      p('rain-jacket', 'Packable Rain Jacket', 'Breathable shell that folds into its pocket.', 8900, 31, { colour: 'yellow' })
    ]
  },
  {
    id: 'apparel',
    name: 'Apparel',
    description: 'Everyday clothes made to last.',
    products: [
      p('merino-tshirt', 'Merino T-Shirt', 'Fine merino tee that stays fresh for days.', 5900, 60, {
        material: 'merino',
        colour: 'charcoal'
      }),
      p('organic-hoodie', 'Organic Cotton Hoodie', 'Heavy brushed fleece, relaxed fit.', 7900, 45, { material: 'cotton', colour: 'oat' }),
      p('wool-socks', 'Wool Hiking Socks', 'Cushioned socks, two pairs.', 2200, 140, { material: 'wool', pieces: '2' }),
      p('canvas-tote', 'Canvas Tote Bag', 'Sturdy tote with an inside pocket.', 1900, 130, { material: 'canvas', colour: 'natural' }),
      p('beanie', 'Ribbed Beanie', 'Soft knit beanie in recycled wool.', 2500, 85, { material: 'wool', colour: 'rust' }),
      p('linen-shirt', 'Linen Shirt', 'Breezy linen button-down.', 6900, 34, { material: 'linen', colour: 'sky blue' }),
      p('denim-jacket', 'Denim Jacket', 'Rigid selvedge denim that breaks in beautifully.', 12900, 16, { material: 'denim' }),
      p('leather-belt', 'Leather Belt', 'Vegetable-tanned leather with a brass buckle.', 4500, 40, { material: 'leather' }),
      p('rain-hat', 'Waxed Rain Hat', 'Waxed cotton bucket hat.', 3300, 29, { material: 'waxed cotton' }),
      p('running-shorts', 'Running Shorts', 'Light shorts with a zipped key pocket.', 3900, 52, { colour: 'black' })
    ]
  },
  {
    id: 'books',
    name: 'Books',
    description: 'Reading for cooks, makers and wanderers.',
    products: [
      p('bread-book', 'The Bread Book', 'From first loaf to sourdough, step by step.', 2900, 40, { pages: '288', format: 'hardcover' }),
      p('coffee-atlas', 'The Coffee Atlas', "Origins, farms and flavours of the world's coffee.", 3400, 30, {
        pages: '320',
        format: 'hardcover'
      }),
      p('trail-guide-alps', 'Trail Guide: The Alps', 'Fifty day hikes with maps and huts.', 2400, 25, {
        pages: '240',
        format: 'paperback'
      }),
      p('typography-primer', 'A Typography Primer', 'How letters work on pages and screens.', 2100, 35, {
        pages: '176',
        format: 'paperback'
      }),
      p('vegetable-kitchen', 'The Vegetable Kitchen', 'Two hundred recipes that put vegetables first.', 3200, 28, {
        pages: '352',
        format: 'hardcover'
      }),
      p('small-spaces', 'Living in Small Spaces', 'Ideas for homes that do more with less.', 2700, 22, {
        pages: '208',
        format: 'hardcover'
      }),
      p('night-sky', 'Field Guide to the Night Sky', 'Constellations and planets through the seasons.', 1900, 33, {
        pages: '160',
        format: 'paperback'
      }),
      p('tea-ceremony', 'The Way of Tea', 'History and practice of tea in Japan and China.', 2300, 20, {
        pages: '224',
        format: 'paperback'
      }),
      p('woodworking-basics', 'Woodworking Basics', 'Tools, joints and ten first projects.', 2600, 26, {
        pages: '256',
        format: 'paperback'
      }),
      p('fermentation', 'The Fermentation Handbook', 'Kimchi, kombucha, miso and more at home.', 3000, 31, {
        pages: '300',
        format: 'hardcover'
      })
    ]
  }
]
